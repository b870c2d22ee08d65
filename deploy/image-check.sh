#!/usr/bin/env bash
# The Dockerfile's steps, without a container: CI cannot pull node:24-slim (it reaches npm and
# Debian only), so it builds the two stages in temporary directories exactly as the Dockerfile
# does, starts the runtime stage as a non-root user with REDIS_URL set, and runs the image's
# HEALTHCHECK command against it. Keep in step with the Dockerfile.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
app_pid="" redis_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The image runs an LTS line of Node (22 or 24) in both stages; the code keeps running on 20.18+.
bases="$(grep -E '^FROM ' "$root/Dockerfile" | awk '{print $2}')"
for base in $bases; do
  case "$base" in node:22-slim|node:24-slim) ;; *) echo "image-check: base image $base is not Node 22 or 24 LTS" >&2; exit 1 ;; esac
done
grep -q '"node": ">=20.18.1"' "$root/package.json" || { echo "image-check: package.json engines must stay >=20.18.1" >&2; exit 1; }
for label in version revision source licenses; do
  grep -q "org.opencontainers.image.$label=" "$root/Dockerfile" || { echo "image-check: Dockerfile lacks the OCI label org.opencontainers.image.$label" >&2; exit 1; }
done

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

echo "image-check: stage 1 (build): npm ci, npm run build"
mkdir "$work/build"
cp "$root/package.json" "$root/package-lock.json" "$root/tsconfig.json" "$work/build/"
cp -r "$root/src" "$work/build/src"
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run build >/dev/null)

echo "image-check: stage 2 (runtime): npm ci --omit=dev --ignore-scripts, lib/, templates/, app.yml, app.readonly.yml"
mkdir "$work/app"
cp "$root/package.json" "$root/package-lock.json" "$work/app/"
(cd "$work/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
cp -r "$work/build/lib" "$work/app/lib"
cp -r "$root/templates" "$work/app/templates"
cp "$root/app.yml" "$root/app.readonly.yml" "$work/app/"
if [ -d "$work/app/node_modules/typescript" ]; then echo "image-check: dev dependencies in the runtime stage" >&2; exit 1; fi
# The test doubles and benchmarks live in testkit/ and bench/, outside what the build compiles.
if [ -e "$work/app/lib/bench" ] || [ -e "$work/app/lib/testkit" ]; then echo "image-check: benchmarks or test doubles in the runtime stage" >&2; exit 1; fi

# A throwaway key (the App id is not real: GitHub is never reached here) and Redis.
node -e 'const {generateKeyPairSync}=require("crypto");process.stdout.write(generateKeyPairSync("rsa",{modulusLength:2048,privateKeyEncoding:{type:"pkcs8",format:"pem"},publicKeyEncoding:{type:"spki",format:"pem"}}).privateKey)' > "$work/key.pem"
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
redis_pid=$!
port="$(free_port)"

# USER node in the image; here a non-root user too when run as root (CI).
run_as=()
if [ "$(id -u)" = 0 ]; then chmod -R a+rX "$work"; run_as=(runuser -u nobody --); fi
echo "image-check: starting node lib/server.js (the image's CMD) as $( [ ${#run_as[@]} -gt 0 ] && echo nobody || id -un ) on port $port"
(cd "$work/app" && env -i PATH="$PATH" HOME=/tmp NODE_ENV=production HOST=127.0.0.1 PORT="$port" APP_ID=1 \
  PRIVATE_KEY_PATH="$work/key.pem" WEBHOOK_SECRET=image-check REDIS_URL="redis://127.0.0.1:$redis_port" LOG_LEVEL=info \
  "${run_as[@]}" node lib/server.js) > "$work/app.log" 2>&1 &
app_pid=$!

# The image's HEALTHCHECK command, until it passes (20 s: the image's start period).
for _ in $(seq 1 40); do
  if (cd "$work/app" && PORT="$port" node -e "fetch(\`http://127.0.0.1:\${process.env.PORT || 3000}/healthz\`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"); then
    # Ready although GitHub cannot be reached from here: /readyz means "send me webhooks".
    ready="$(node -e "fetch('http://127.0.0.1:$port/readyz').then((r) => console.log(r.status))")"
    [ "$ready" = 200 ] || { echo "image-check: /readyz answered $ready, not 200" >&2; cat "$work/app.log" >&2; exit 1; }
    metrics="$(node -e "fetch('http://127.0.0.1:$port/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))")"
    echo "$metrics" | grep -q '^jit_redis_up 1$' || { echo "image-check: /metrics lacks jit_redis_up 1" >&2; exit 1; }
    # The logs are JSON lines (the image sets NODE_ENV=production; LOG_FORMAT=pretty is not set).
    head -n 1 "$work/app.log" | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{JSON.parse(s)})' \
      || { echo "image-check: the log is not JSON lines" >&2; cat "$work/app.log" >&2; exit 1; }
    echo "image-check: HEALTHCHECK passed; /readyz 200 (GitHub is not reachable from here); /metrics has jit_redis_up 1; JSON logs"
    exit 0
  fi
  sleep 0.5
done
echo "image-check: HEALTHCHECK never passed; the app's log:" >&2
cat "$work/app.log" >&2
exit 1
