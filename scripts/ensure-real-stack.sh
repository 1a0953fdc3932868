#!/usr/bin/env bash
# Installs the Debian packages the real-stack tests need (libvirt 9.0, QEMU 7.2, OVMF, virsh,
# libvirt-python, virt-xml-validate, nova Zed with the test fixtures the nova adapter imports)
# when any of them is missing. Idempotent and quiet when all is
# there. Without root (or apt) it says what is missing and leaves the decision to the tests:
# outside CI they skip with a notice, with CI=true they fail.
set -euo pipefail

# docker.io and debootstrap (the real-libvirt containers) are installed by scripts/ensure-containers.sh,
# which must write Docker's no-bridge settings before the package can start a daemon.
PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 ovmf python3-libvirt libxml2-utils
  python3-nova python3-oslotest python3-wsgi-intercept python3-cryptography chromium libvirt-clients-qemu python3-lxml
  python3-pytest golang-go xz-utils)

missing=()
command -v virsh >/dev/null 2>&1 || missing+=(virsh)
[ -x /usr/sbin/libvirtd ] || missing+=(libvirtd)
command -v virt-xml-validate >/dev/null 2>&1 || missing+=(virt-xml-validate)
command -v xmllint >/dev/null 2>&1 || missing+=(xmllint)
[ -x /usr/bin/qemu-system-x86_64 ] || missing+=(qemu-system-x86_64)
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] || missing+=(libvirt-driver-qemu)
/usr/bin/python3 -c 'import libvirt' >/dev/null 2>&1 || missing+=(python3-libvirt)
/usr/bin/python3 -c 'import nova.virt.libvirt.driver, oslotest, wsgi_intercept' >/dev/null 2>&1 || missing+=(python3-nova)
/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1 || missing+=(python3-cryptography)
[ -x /usr/bin/virt-qemu-sev-validate ] || missing+=(virt-qemu-sev-validate)  # libvirt's SEV attestation tool (test/attestation)
/usr/bin/python3 -c 'import lxml' >/dev/null 2>&1 || missing+=(python3-lxml)
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the conformance HTML report's browser test
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || missing+=(python3-pytest)  # the control socket's pytest example (test/control)
command -v go >/dev/null 2>&1 || missing+=(golang-go)  # the control socket's Go example (test/control)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)  # unpacks Debian's libvirt 9.0 source tarball (test/rpc/procedure-table)

# libvirt's QEMU driver (the system daemon, and the in-process oracle under oracle/) cannot start
# without the user it runs QEMU as by default; Debian's libvirt-daemon-system would create it.
if [ "$(id -u)" = 0 ] && ! getent passwd libvirt-qemu >/dev/null; then
  getent group kvm >/dev/null          || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin -g libvirt-qemu -G kvm libvirt-qemu
  echo "real stack: created the libvirt-qemu user"
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "real stack: all components present"
  exit 0
fi

echo "real stack: missing ${missing[*]}; installing ${PACKAGES[*]}"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "real stack: cannot install (need root and apt-get); real-stack tests will skip outside CI and fail in CI" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
echo "real stack: installed"
