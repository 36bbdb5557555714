# syntax=docker/dockerfile:1
# Build: the same commands CI runs (npm ci, npm run build) produce the single binary.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Run: the binary alone on a slim base, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/parley --create-home parley
COPY --from=build /src/dist/parley /usr/local/bin/parley
USER parley
WORKDIR /var/lib/parley
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/var/lib/parley/data \
    LOG_FORMAT=json
VOLUME ["/var/lib/parley/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["parley", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["parley"]
CMD ["serve"]
