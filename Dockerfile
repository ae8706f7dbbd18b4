# The ota-swarm image for `ota-swarm k8s` (docs/scale-out.md): the compiled CLI and its runtime
# dependencies only. Build from the repository root:
#   docker build -t registry.example/ota-swarm:0.1.0 .
# Node 20.20 is the version the project is built and tested on (package.json engines: >= 20.19).
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY scenarios ./scenarios
COPY schema ./schema
# No src/ in the image: the launcher then runs dist/ as published and never tries to build.
USER node
ENTRYPOINT ["node", "/app/bin/ota-swarm.js"]
CMD ["--help"]
