# syntax=docker/dockerfile:1
# Build: the same commands CI runs (npm ci, npm run build) produce the single binary.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && mkdir -p /var/lib/parley/data

# Run: the binary alone on distroless's glibc base: CA certificates and time zones, no shell, no
# package manager. The binary needs only glibc (`ldd dist/parley`: libc, libm, libpthread, libdl)
# and carries its own TLS, so the base without OpenSSL does. 14.7 MB of base, 151 MB in all.
FROM gcr.io/distroless/base-nossl-debian12
COPY --from=build /src/dist/parley /usr/local/bin/parley
# The user's folder and the volume's mount point in it, owned by the user: Docker gives a new named
# volume the owner of the folder it is mounted on. uid 10001 as before, so older volumes still work.
COPY --from=build --chown=10001:10001 /var/lib/parley /var/lib/parley
USER 10001:10001
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
