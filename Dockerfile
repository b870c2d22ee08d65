# jit-access as a container (README "Deployment"). Two stages: the first compiles TypeScript with
# the dev dependencies, the second holds only what runs. CI cannot pull node:20-slim (it reaches npm
# and Debian only), so it runs these same steps without a container: deploy/image-check.sh. Keep
# the two in step.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# `prepare` compiles src/ on install; run again explicitly so a failure names the build.
RUN npm ci --no-audit --no-fund && npm run build

FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only; no install scripts (`prepare` would need the compiler).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/lib ./lib
COPY templates ./templates
COPY app.yml ./
USER node
EXPOSE 3000
# /healthz answers 200 while the process runs (no secret needed); Node 20 has fetch built in.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm start` runs after its build step.
CMD ["node_modules/.bin/probot", "run", "./lib/index.js"]
