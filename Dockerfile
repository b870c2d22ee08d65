# jit-access as a container (docs/operations/deploy.md, docs/operations/kubernetes.md). Two
# stages: the first compiles TypeScript with the dev dependencies, the second holds only what runs.
# The image runs Node 24, an LTS line (the code itself runs on Node 20.18+, package.json's engines,
# for development machines). CI cannot pull node:24-slim (it reaches npm and Debian only), so it
# runs these same steps without a container: deploy/image-check.sh. Keep the two in step.
# deploy/release.sh builds and tags it.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# `prepare` compiles src/ on install; run again explicitly so a failure names the build.
RUN npm ci --no-audit --no-fund && npm run build

FROM node:24-slim
# OCI labels: what this image is (deploy/release.sh passes the version, the commit and the source).
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="jit-access" \
      org.opencontainers.image.description="Just-in-time access requests as pull requests: a GitHub App." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only; no install scripts (`prepare` would need the compiler).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/lib ./lib
COPY templates ./templates
COPY app.yml app.readonly.yml ./
# The numeric id of the image's `node` user: Kubernetes' runAsNonRoot can check a number only.
USER 1000
EXPOSE 3000
# /healthz answers 200 while the process runs (no secret needed); Node has fetch built in.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm start` runs after its build step: Probot's run with the app's logger (JSON, redacted).
CMD ["node", "lib/server.js"]
