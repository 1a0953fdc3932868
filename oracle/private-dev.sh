#!/bin/sh
# Runs "$@" with a /dev of its own, so the oracle sees the same devices on every machine: the
# basic character devices and nothing else (no /dev/kvm even where the host has one, no /dev/sev).
# Must run inside a private mount namespace: `unshare --mount --propagation private THIS CMD…`.
set -eu
mount -t tmpfs -o mode=755 oracle-dev /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mkdir /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 oracle-shm /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
exec "$@"
