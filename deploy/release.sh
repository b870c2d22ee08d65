#!/usr/bin/env bash
# Release: the version in package.json, its entry at the top of CHANGELOG.md, the container image
# built from the Dockerfile with its OCI labels (version, commit, source), and the git tag v<version>.
#
#   deploy/release.sh [--dry-run] [--image NAME]
#
# --dry-run prints every command instead of running it. The image is built with docker, else
# podman; with neither, the build command is printed and the release stops before tagging.
# Pushing the image and the tag is left to you (docs/operations/kubernetes.md, "Images and releases").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

dry_run=false
image=jit-access
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true ;;
    --image) image="${2:?--image needs a name}"; shift ;;
    *) echo "release: unknown argument $1 (usage: deploy/release.sh [--dry-run] [--image NAME])" >&2; exit 2 ;;
  esac
  shift
done

fail() { echo "release: $*" >&2; exit 1; }
run() {
  if $dry_run; then echo "would run: $*"; else echo "running: $*"; "$@"; fi
}

version="$(node -p 'require("./package.json").version')"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "package.json's version \"$version\" is not a semantic version (x.y.z)"
newest="$(grep -m1 -E '^## [0-9]+\.[0-9]+\.[0-9]+' CHANGELOG.md | sed -E 's/^## ([0-9]+\.[0-9]+\.[0-9]+).*/\1/' || true)"
[ "$newest" = "$version" ] || fail "CHANGELOG.md's newest entry is \"${newest:-none}\", package.json says $version: write the entry first"
tag="v$version"
if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then fail "the tag $tag exists already: raise the version"; fi
if [ -n "$(git status --porcelain)" ]; then
  if $dry_run; then echo "release: the working tree has uncommitted changes (a real release refuses them)"; else fail "the working tree has uncommitted changes: commit them first"; fi
fi
revision="$(git rev-parse HEAD)"
source="$(git remote get-url origin 2>/dev/null || echo unknown)"

engine=""
if command -v docker >/dev/null 2>&1; then engine=docker; elif command -v podman >/dev/null 2>&1; then engine=podman; fi
build=(build --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE=$source" -t "$image:$version" .)
if [ -z "$engine" ]; then
  echo "release: neither docker nor podman is installed; the build would be:"
  echo "would run: docker ${build[*]}"
  $dry_run || fail "no container engine: build the image elsewhere with the command above, then run this again"
else
  run "$engine" "${build[@]}"
fi
run git tag -a "$tag" -m "jit-access $version"
if $dry_run; then echo "release: dry run, nothing was built or tagged"; exit 0; fi
echo "release: $tag ($revision) built and tagged; publish it with: git push origin $tag && $engine push $image:$version"
