#!/usr/bin/env bash
# Builds the real-libvirt images, one per Debian release, from Debian's archive alone:
#   debootstrap --variant=minbase RELEASE → docker import (base) → recipe/Dockerfile (libvirt, QEMU).
# An image's tag carries a hash of the recipe, so an image is rebuilt only when the recipe changes.
#
#   containers/build.sh [RELEASE…]     build what is missing (default: bullseye bookworm trixie)
#   containers/build.sh --tag RELEASE  print the image tag the current recipe gives RELEASE
#
# Needs root, a running dockerd, debootstrap, and the Debian mirror (read from the machine's apt
# sources; SEVHARNESS_DEBIAN_MIRROR overrides it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
RELEASES=(bullseye bookworm trixie)

known() { local r; for r in "${RELEASES[@]}"; do [ "$r" = "$1" ] && return 0; done; return 1; }

# The recipe's hash: the release name and every recipe file, in name order.
tag_of() {
  local hash
  hash=$(cd "$HERE/recipe" && { echo "$1"; LC_ALL=C ls | while read -r f; do echo "== $f"; cat "$f"; done; } | sha256sum | cut -c1-12)
  echo "sevharness-libvirt:$1-$hash"
}

mirror() {
  if [ -n "${SEVHARNESS_DEBIAN_MIRROR:-}" ]; then echo "$SEVHARNESS_DEBIAN_MIRROR"; return; fi
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: the first URIs line of a stanza that is not the security archive
    uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_one() {
  local release=$1 tag base rootfs started
  tag=$(tag_of "$release")
  if docker image inspect "$tag" >/dev/null 2>&1; then echo "containers: $tag present"; return; fi
  started=$(date +%s)
  base="sevharness-debian:$release-minbase"
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    rootfs=$(mktemp -d /var/tmp/sevharness-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' RETURN
    echo "containers: debootstrap $release from $(mirror)"
    debootstrap --variant=minbase "$release" "$rootfs" "$(mirror)" >"$rootfs.log" 2>&1 \
      || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; return 1; }
    rm -f "$rootfs.log"
    tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
  fi
  echo "containers: building $tag"
  # The legacy builder: host networking for apt (no bridge network exists on our machines).
  DOCKER_BUILDKIT=0 docker build --quiet --network host --build-arg "BASE=$base" -t "$tag" "$HERE/recipe" >/dev/null
  echo "containers: built $tag in $(( $(date +%s) - started )) s"
}

if [ "${1:-}" = "--tag" ]; then
  known "${2:-}" || { echo "usage: $0 --tag bullseye|bookworm|trixie" >&2; exit 2; }
  tag_of "$2"
  exit 0
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${RELEASES[@]}")
for r in "${targets[@]}"; do
  known "$r" || { echo "containers: unknown release $r (one of ${RELEASES[*]})" >&2; exit 2; }
  build_one "$r"
done
