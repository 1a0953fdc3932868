#!/usr/bin/env bash
# Starts the system libvirtd (qemu:///system) without systemd, as machine.md §3 describes: the
# libvirt-qemu user and its groups, the log/state/cache directories, a qemu.conf that runs QEMU as
# root without security labelling, then virtlogd and libvirtd as daemons. Idempotent: whatever
# already exists (user, directories, qemu.conf, a running daemon's socket) is left alone, so it is
# safe to run twice. Needs root. Prints the daemons' PIDs; exits non-zero with a reason on failure.
#   scripts/start-system-libvirtd.sh            start what is not running; leave it running
#   scripts/start-system-libvirtd.sh CMD…       the same, run CMD, then stop (by PID) only the daemons
#                                               this run started, on success and failure alike
#   scripts/start-system-libvirtd.sh --unless-docker CMD…
#                                               where a Docker daemon answers, just run CMD: the tests
#                                               then use Debian 12's libvirtd in a container, never
#                                               this machine's (the machine's is their fallback)
set -euo pipefail

if [ "${1:-}" = --unless-docker ]; then
  shift
  if [ $# -gt 0 ] && command -v docker >/dev/null 2>&1 && docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    exec "$@"
  fi
fi

# With CMD, a daemon that cannot be started is reported and CMD runs anyway: its tests skip with a
# notice outside CI and fail with CI=true.
fail() {
  echo "start-system-libvirtd: $*" >&2
  [ $# -gt 0 ] && [ "${#ARGS[@]}" -gt 0 ] && exec "${ARGS[@]}"
  exit 1
}
ARGS=("$@")

[ "$(id -u)" = 0 ] || fail "needs root (the system daemon owns /run/libvirt)"
for bin in /usr/sbin/libvirtd /usr/sbin/virtlogd; do
  [ -x "$bin" ] || fail "$bin not found (install libvirt-daemon; scripts/ensure-real-stack.sh does)"
done

# libvirt-daemon-system normally creates these; without them the QEMU driver cannot initialise.
getent group kvm >/dev/null          || groupadd --system kvm
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd --system --no-create-home \
    --home-dir /var/lib/libvirt --shell /usr/sbin/nologin -g libvirt-qemu -G kvm libvirt-qemu

# Without the log directory libvirtd fails to open its log file and exits.
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt /run/libvirt /etc/libvirt
# Never overwrite an operator's qemu.conf; only supply one when there is none.
[ -f /etc/libvirt/qemu.conf ] || printf 'user = "root"\ngroup = "root"\nsecurity_driver = "none"\n' > /etc/libvirt/qemu.conf

# Under systemd the units own the daemons (and socket activation may hold the socket while no
# daemon runs): only check that a socket is there.
if [ -d /run/systemd/system ]; then
  for s in /run/libvirt/virtqemud-sock /run/libvirt/libvirt-sock; do
    [ -S "$s" ] && { echo "systemd host: $s present"; [ $# -eq 0 ] || exec "$@"; exit 0; }
  done
  fail "systemd host without a libvirt socket: run 'systemctl start libvirtd' (or virtqemud)"
fi

# A socket left behind by a daemon that died (a machine snapshot, a killed session: /run outlives
# the process) answers ECONNREFUSED, so a socket counts only while its pidfile names a live daemon
# of that name (a reused PID of another program does not count).
alive() { local pid; [ -f "$1" ] && pid="$(cat "$1")" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; }
alive /run/virtlogd.pid virtlogd || rm -f /run/libvirt/virtlogd-sock /run/libvirt/virtlogd-admin-sock
alive /run/libvirtd.pid libvirtd || rm -f /run/libvirt/libvirt-sock /run/libvirt/libvirt-sock-ro /run/libvirt/libvirt-admin-sock

started=()
[ -S /run/libvirt/virtlogd-sock ] || { /usr/sbin/virtlogd -d; started+=(virtlogd); }
[ -S /run/libvirt/libvirt-sock ]  || { /usr/sbin/libvirtd -d; started+=(libvirtd); }

for _ in $(seq 1 100); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.1; done
[ -S /run/libvirt/libvirt-sock ] || fail "libvirtd did not create /run/libvirt/libvirt-sock within 10 s (see /var/log/libvirt/libvirtd.log)"
echo "virtlogd=$(cat /run/virtlogd.pid 2>/dev/null || echo '?') libvirtd=$(cat /run/libvirtd.pid 2>/dev/null || echo '?')${started:+ started: ${started[*]}}"

[ $# -gt 0 ] || exit 0
stop_started() {
  local name pid
  for name in "${started[@]}"; do
    pid="$(cat "/run/$name.pid" 2>/dev/null)" || continue
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || continue
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "start-system-libvirtd: stopped $name (pid $pid)" >&2
  done
}
trap stop_started EXIT
trap 'exit 130' INT TERM
"$@"
