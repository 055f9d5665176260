#!/usr/bin/env bash
# Installs the real tools that the tests and the lab run: HAProxy, cloud-init (for `cloud-init schema`),
# ShellCheck, OpenSSL, curl, socat, jq, Python 3, git, iproute2, Valkey with Sentinel, and Prometheus,
# Alertmanager, node_exporter and redis_exporter (Debian's packages). Idempotent; root.
#   Debian 12: Valkey 8 from bookworm-backports. The backports entry is the machine's own first Debian
#              stanza with another suite, so no mirror address is ever written here.
#   Ubuntu 24.04: Valkey 7.2 from the release's own archive (universe).
set -euo pipefail

readonly sources_dir=/etc/apt/sources.list.d
readonly backports_file="${sources_dir}/yquant-backports.sources"

if [[ $(id -u) -ne 0 ]]; then
  echo "install-system-deps: run as root (apt-get needs it), e.g. sudo bash $0" >&2
  exit 1
fi

# shellcheck source=/dev/null
. /etc/os-release
valkey_suite=()
if [[ "${ID}" == "debian" ]]; then
  if [[ ! -f "${sources_dir}/debian.sources" ]]; then
    echo "install-system-deps: ${sources_dir}/debian.sources not found; add bookworm-backports by hand" >&2
    exit 1
  fi
  if [[ ! -f "${backports_file}" ]]; then
    awk 'BEGIN { RS = ""; ORS = "\n" } NR == 1 { print; exit }' "${sources_dir}/debian.sources" |
      sed -E 's/^Suites:.*/Suites: bookworm-backports/' >"${backports_file}"
  fi
  valkey_suite=(-t bookworm-backports)
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  haproxy cloud-init shellcheck openssl curl socat jq python3 git iproute2 iptables procps util-linux \
  ca-certificates >/dev/null
apt-get install -y -qq --no-install-recommends "${valkey_suite[@]}" \
  valkey-server valkey-sentinel valkey-tools >/dev/null

# Monitoring (promtool comes with prometheus, amtool with prometheus-alertmanager). With package
# defaults these listen on every address, on the ports the lab binds on 127.0.10.x: a package this
# script installs is neither started now (a temporary policy-rc.d) nor enabled for the next boot.
monitoring=(prometheus prometheus-alertmanager prometheus-node-exporter prometheus-redis-exporter)
fresh=()
for pkg in "${monitoring[@]}"; do dpkg -s "${pkg}" >/dev/null 2>&1 || fresh+=("${pkg}"); done
if ((${#fresh[@]} > 0)); then
  held=false
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    held=true
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${fresh[@]}" >/dev/null
  if [[ ${held} == true ]]; then rm -f /usr/sbin/policy-rc.d; fi
  if [[ -d /run/systemd/system ]]; then systemctl disable "${fresh[@]}" >/dev/null 2>&1 || true; fi
fi

echo "install-system-deps: haproxy $(haproxy -v | head -1 | awk '{print $3}')," \
  "valkey $(valkey-server --version | sed -E 's/.*v=([0-9.]+).*/\1/')," \
  "cloud-init $(cloud-init --version 2>&1 | awk '{print $2}')," \
  "shellcheck $(shellcheck --version | awk '/^version:/ {print $2}')," \
  "prometheus $(prometheus --version 2>&1 | awk 'NR == 1 {print $3}')"
