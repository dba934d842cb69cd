# The maxx image: one binary for every agent and tool (`maxx agent <name>`, `maxx topology
# apply`, `maxx schemas register`, ...). Multi-stage: build with the Rust toolchain, run on a
# distroless base as a non-root user with nothing else in the image.
#
#   docker build -t maxx:dev .
#   docker run --rm maxx:dev --help

FROM rust:1.89-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not rebuild librdkafka.
COPY Cargo.toml Cargo.lock ./
COPY events/Cargo.toml events/
COPY agents/Cargo.toml agents/
COPY runtime/Cargo.toml runtime/
COPY replay/Cargo.toml replay/
COPY testkit/Cargo.toml testkit/
COPY registry/Cargo.toml registry/
COPY service/Cargo.toml service/
COPY topology/Cargo.toml topology/
RUN for crate in events agents runtime replay testkit registry service topology; do \
      mkdir -p $crate/src && echo "" > $crate/src/lib.rs; \
    done \
 && mkdir -p src benches && echo "fn main() {}" > src/main.rs && echo "fn main() {}" > benches/eos_hop.rs \
 && touch topology/topics.yaml \
 && cargo build --release --locked --bin maxx || true
COPY . .
RUN touch src/main.rs */src/lib.rs \
 && cargo build --release --locked --bin maxx \
 && mkdir -p /out \
 && cp target/release/maxx /out/maxx \
 && cp /lib/$(gcc -dumpmachine)/libz.so.1 /out/libz.so.1

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/libz.so.1 /usr/lib/libz.so.1
COPY --from=build /out/maxx /usr/local/bin/maxx
COPY --from=build /src/schemas /schemas
USER nonroot:nonroot
EXPOSE 9100
ENTRYPOINT ["/usr/local/bin/maxx"]
CMD ["--help"]
