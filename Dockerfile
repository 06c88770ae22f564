# One image with all four binaries: web, worker, migration, gateway-emulator.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bins \
 && mkdir /out \
 && cp target/release/web target/release/worker target/release/migration target/release/gateway-emulator /out/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
USER nobody
# web's callbacks, /cable and admin API; the emulator's WebSocket endpoint.
EXPOSE 3000 4000
