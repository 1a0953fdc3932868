#!/bin/sh
# Starts virtlogd and libvirtd (no systemd in the container), waits until libvirtd answers on its
# socket, prints one READY line with the versions it reports, then lives as long as libvirtd does.
set -eu
SOCKET_DIR=/run/libvirt-socket
mkdir -p "$SOCKET_DIR" /run/libvirt /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt/qemu
virtlogd --daemon
libvirtd &
daemon=$!
trap 'kill -TERM "$daemon" 2>/dev/null' TERM INT
uri="qemu+unix:///system?socket=$SOCKET_DIR/libvirt-sock"
tries=0
until virsh -c "$uri" version >/tmp/version 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ] || ! kill -0 "$daemon" 2>/dev/null; then echo "FAILED: libvirtd did not answer" >&2; exit 1; fi
  sleep 0.1
done
libvirt=$(sed -n 's/^Using library: libvirt \([0-9.]*\).*/\1/p' /tmp/version)
qemu=$(sed -n 's/^Running hypervisor: QEMU \([0-9.]*\).*/\1/p' /tmp/version)
echo "READY libvirt=$libvirt qemu=$qemu" | tee /run/sevharness-ready
wait "$daemon"
