# The self-hosted data plane (`npm start`) in a container. Not built in this repository's CI (no docker there);
# see docs/performance.md, "Self-hosted data plane", for the run command and what runs where.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Dev dependencies included: the launcher bundles the Worker (esbuild) and runs it on workerd (miniflare).
RUN npm ci
COPY . .
ENV SWITCHYARD_HOST=0.0.0.0 \
    SWITCHYARD_DATA_DIR=/data \
    SWITCHYARD_CONFIG=/config/switchyard.config.json
VOLUME /data
EXPOSE 8787
# Exec form without npm in between, so SIGTERM reaches the launcher and it stops workerd cleanly.
CMD ["node", "--import", "tsx", "scripts/start.ts"]
