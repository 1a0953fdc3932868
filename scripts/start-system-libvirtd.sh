#!/usr/bin/env bash
# Starts the system libvirtd (qemu:///system) without systemd, as machine.md §3 describes: the
# libvirt-qemu user and its groups, the log/state/cache directories, a qemu.conf that runs QEMU as
# root without security labelling, then virtlogd and libvirtd as daemons. Idempotent: whatever
# already exists (user, directories, qemu.conf, a running daemon's socket) is left alone, so it is
# safe to run twice. Needs root. Prints the daemons' PIDs; exits non-zero with a reason on failure.
set -euo pipefail

fail() { echo "start-system-libvirtd: $*" >&2; exit 1; }

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
    [ -S "$s" ] && { echo "systemd host: $s present"; exit 0; }
  done
  fail "systemd host without a libvirt socket: run 'systemctl start libvirtd' (or virtqemud)"
fi

# A socket left behind by a daemon that died would make the checks below skip the start.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if [ -S /run/libvirt/virtlogd-sock ] && ! alive /run/virtlogd.pid; then rm -f /run/libvirt/virtlogd-sock; fi
if [ -S /run/libvirt/libvirt-sock ] && ! alive /run/libvirtd.pid; then rm -f /run/libvirt/libvirt-sock /run/libvirt/libvirt-sock-ro /run/libvirt/libvirt-admin-sock; fi

[ -S /run/libvirt/virtlogd-sock ] || /usr/sbin/virtlogd -d
[ -S /run/libvirt/libvirt-sock ]  || /usr/sbin/libvirtd -d

for _ in $(seq 1 100); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.1; done
[ -S /run/libvirt/libvirt-sock ] || fail "libvirtd did not create /run/libvirt/libvirt-sock within 10 s (see /var/log/libvirt/libvirtd.log)"
echo "virtlogd=$(cat /run/virtlogd.pid 2>/dev/null || echo '?') libvirtd=$(cat /run/libvirtd.pid 2>/dev/null || echo '?')"
