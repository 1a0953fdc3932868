#!/usr/bin/env bash
# A Node base image for containers/serve/Dockerfile where no image registry is reachable:
# Debian 12 minbase (containers/build.sh makes it from Debian's archive) with this machine's node
# and npm copied in, and this machine's CA bundle (a registry reached through a TLS-inspecting proxy
# is trusted in the image as it is here). Prints the tag to pass as --build-arg NODE_IMAGE=….
#   bash containers/serve/node-image.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
base=sevharness-debian:bookworm-minbase
tag="sevharness-node:$(node -p 'process.versions.node')"
docker image inspect "$base" >/dev/null 2>&1 || bash "$HERE/../build.sh" bookworm >&2
docker image inspect "$tag" >/dev/null 2>&1 && { echo "$tag"; exit 0; }
node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$node_bin" "$ctx/node"
cp -a "$npm_dir" "$ctx/npm"
cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/ca-certificates.crt"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY node /usr/bin/node
COPY npm /usr/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm && node --version && npm --version
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q --network host -t "$tag" "$ctx" >&2
echo "$tag"
