#!/usr/bin/env bash
# Installs the real tools that the tests and the lab run: HAProxy, cloud-init (for `cloud-init schema`),
# ShellCheck, OpenSSL, curl, iproute2 and Valkey 8 from bookworm-backports. Idempotent; needs root.
set -euo pipefail

readonly sources_dir=/etc/apt/sources.list.d
readonly backports_file="${sources_dir}/yquant-backports.sources"

if [[ $(id -u) -ne 0 ]]; then
  echo "install-system-deps: run as root (apt-get needs it)" >&2
  exit 1
fi

if [[ ! -f "${backports_file}" ]]; then
  # The backports entry is the machine's own first Debian stanza with another suite, so no mirror
  # address is ever written here.
  awk 'BEGIN { RS = ""; ORS = "\n" } NR == 1 { print; exit }' "${sources_dir}/debian.sources" |
    sed -E 's/^Suites:.*/Suites: bookworm-backports/' >"${backports_file}"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  haproxy cloud-init shellcheck openssl curl socat python3 git iproute2 procps ca-certificates >/dev/null
apt-get install -y -qq --no-install-recommends -t bookworm-backports \
  valkey-server valkey-sentinel valkey-tools >/dev/null
# The packages start their own services on install; the lab runs its own processes instead.
for service in haproxy valkey-server valkey-sentinel; do
  systemctl disable --now "${service}" >/dev/null 2>&1 || true
  service "${service}" stop >/dev/null 2>&1 || true
done
echo "install-system-deps: haproxy $(haproxy -v | head -1 | awk '{print $3}'), valkey $(valkey-server --version | sed -E "s/.*v=([0-9.]+).*/\1/"), cloud-init $(cloud-init --version 2>&1 | awk '{print $2}'), shellcheck $(shellcheck --version | awk '/^version:/ {print $2}')"
