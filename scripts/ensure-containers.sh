#!/usr/bin/env bash
# The real-libvirt containers (containers/) for the tests:
#   scripts/ensure-containers.sh [CMD…]
# installs docker.io and debootstrap when missing, starts dockerd when no daemon answers (no
# bridge network, no iptables rules, its own config file; shared reference machine.md §10), builds
# the three release images when missing (in parallel), then runs CMD and stops the dockerd it
# started — by PID, on success and failure alike. Without CMD a dockerd it started keeps running.
# Without root or apt it says what is missing and runs CMD anyway: the container tests skip
# outside CI and fail with CI=true.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SOCKET=/var/run/docker.sock
export DOCKER_HOST="unix://$SOCKET"
STATE=/run/sevharness-dockerd
started_pid=""

say() { echo "containers: $*" >&2; }
answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

stop_started() {
  [ -n "$started_pid" ] || return 0
  if kill -0 "$started_pid" 2>/dev/null; then
    kill -TERM "$started_pid"
    for _ in $(seq 1 100); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$started_pid" 2>/dev/null && kill -KILL "$started_pid"
    say "stopped dockerd (pid $started_pid)"
  fi
  rm -rf "$STATE"
  started_pid=""
}

ensure() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    answers || say "no Docker daemon and no root to start one; container tests will skip outside CI and fail in CI"
    return 0
  fi
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    # A docker.io postinst that does start the daemon (a systemd host) must find these settings.
    if [ ! -e /etc/docker/daemon.json ]; then
      mkdir -p /etc/docker
      echo '{"bridge":"none","iptables":false,"ip-masq":false}' >/etc/docker/daemon.json
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  fi
  if ! answers; then
    mkdir -p "$STATE"
    echo '{"bridge":"none","iptables":false,"ip-masq":false,"storage-driver":"overlay2"}' >"$STATE/daemon.json"
    dockerd --config-file "$STATE/daemon.json" -H "unix://$SOCKET" >"$STATE/dockerd.log" 2>&1 &
    started_pid=$!
    echo "$started_pid" >"$STATE/dockerd.pid"
    for _ in $(seq 1 100); do answers && break; kill -0 "$started_pid" 2>/dev/null || break; sleep 0.2; done
    answers || { tail -5 "$STATE/dockerd.log" >&2; say "dockerd did not start"; return 1; }
    say "started dockerd (pid $started_pid)"
  fi
  # The three images, built in parallel when missing (the network and the two cores share the work).
  local pids=() r failed=0
  for r in bullseye bookworm trixie; do
    docker image inspect "$(bash "$HERE/../containers/build.sh" --tag "$r")" >/dev/null 2>&1 && continue
    bash "$HERE/../containers/build.sh" "$r" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || { say "an image failed to build"; return 1; }
}

if [ $# -eq 0 ]; then
  ensure
  exit 0
fi
trap stop_started EXIT
trap 'exit 130' INT TERM
ensure || [ "${CI:-}" != true ] || exit 1
"$@"
