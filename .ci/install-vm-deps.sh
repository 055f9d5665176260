#!/usr/bin/env bash
# Installs what `npm run vm -- test` needs on a fresh Debian 12 machine: qemu (software emulation is
# enough), mmdebstrap for the guest image, dnsmasq for the guests' DHCP, cloud-image-utils for the
# NoCloud seed, genisoimage for the local package repository's disk, apt-utils (apt-ftparchive) for its index,
# iptables and iproute2 for the namespace, openssh-client for the pipeline's SSH path. Idempotent; root.
set -euo pipefail
if [[ $(id -u) -ne 0 ]]; then
  echo "install-vm-deps: run as root (apt-get needs it), e.g. sudo bash $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  qemu-system-x86 qemu-utils mmdebstrap dnsmasq-base cloud-image-utils genisoimage apt-utils \
  iproute2 iptables openssh-client ca-certificates >/dev/null
echo "install-vm-deps: $(qemu-system-x86_64 --version | head -1), mmdebstrap $(mmdebstrap --version | awk '{print $2}')"
