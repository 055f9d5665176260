#!/usr/bin/env bash
# setup.sh: puts a node's rendered files in force. Run by cloud-init at first boot (runcmd), after
# the packages are installed and the deferred write_files are written. Safe to run again.
#
#   usage: setup.sh [--wait-sources]
#
# --wait-sources: the first boot's wait (a unit; see cloud-init/user-data.ts) until apt can download
# the user data's `packages:`, 60 tries 10 s apart; else one FIRST BOOT FAILED line. Without it, on a
# VM: that line and exit 1 before any change when a package is missing (health-check.sh shows it);
# - removes the policy-rc.d that held the package services back during the install;
# - host firewall (HOST_FIREWALL=on): one ACCEPT per line of firewall.rules, inserted above the
#   image's REJECT in INPUT (`iptables -C` first: never twice), persisted; a WARNING without REJECT;
# - on a VM: vm.overcommit_memory, valkey-* units after network-online.target, daemon-reload;
# - gate: a self-signed certificate when no PEM was given, the first switch map (switch-active.sh init);
# - engines: enable the app units, the first (placeholder) deploy when none;
# - the token volume (TOKEN_DATA_DIR set, on a VM): waits for its disk, formats it only when blank,
#   mounts it by label (fstab, and valkey-server requires the mount);
# - first run: restarts valkey-server, the message replica (valkey-server@replica, where
#   MESSAGE_REPLICA_PORT is set; it follows the master the other nodes' Sentinels name),
#   valkey-sentinel (and haproxy); later runs start what is down.
#   The same for the monitoring units (MONITORING_UNITS in node.env).
set -euo pipefail

usage() { echo "usage: setup.sh [--wait-sources]    (idempotent)" >&2; }
wait_sources=false
if [[ $# -gt 0 ]]; then
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --wait-sources) wait_sources=true ;;
    *)
      echo "setup.sh: unexpected argument '$1'" >&2
      usage
      exit 2
      ;;
  esac
fi

# shellcheck source=cloud-init/scripts/lib/node-root.sh
source "${BASH_SOURCE[0]%/*}/lib/node-root.sh"
export YQ_ROOT
state_dir="${YQ_ROOT}/var/lib/yquant"
failed_file="${state_dir}/first-boot-failed"
# user-data.txt holds the bytes cloud-init got: gzip since the program compresses the user data.
packages() { python3 -c 'import gzip,sys,yaml;b=open(sys.argv[1],"rb").read();print(*yaml.safe_load(gzip.decompress(b) if b[:2]==b"\x1f\x8b" else b)["packages"])' "${YQ_ROOT}/var/lib/cloud/instance/user-data.txt"; }
fail_first_boot() {
  mkdir -p "${state_dir}"
  [[ -s ${failed_file} ]] || echo "yquant: FIRST BOOT FAILED: $1" >"${failed_file}"
  cat "${failed_file}" >&2
  { cat "${failed_file}" >/dev/console; } 2>/dev/null || true
}
# Before node.env: the deferred files are not written yet.
if [[ ${wait_sources} == "true" ]]; then
  # Before `packages`: openipmi must never come in. It is only a Recommends (prometheus-node-exporter,
  # its -collectors, ipmitool, openipmi), and its init script fails at every boot of a machine without
  # IPMI hardware: each reboot of a VM left openipmi.service failed. ipmitool, with no service, stays.
  mkdir -p "${YQ_ROOT}/etc/apt/preferences.d"
  printf 'Package: openipmi\nPin: release *\nPin-Priority: -1\n' >"${YQ_ROOT}/etc/apt/preferences.d/yquant-no-openipmi.pref"
  for _ in $(seq "${YQ_WAIT_TRIES:-60}"); do
    apt-get update -qq || true
    # shellcheck disable=SC2046 # one word per package
    apt-get install -qqyd $(packages) && exit 0
    sleep "${YQ_WAIT_SECONDS:-10}"
  done
  fail_first_boot "package sources unreachable for 10 min"
  exit 0
fi
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env"

log() { printf 'setup.sh[%s]: %s\n' "${NODE_NAME}" "$*"; }
svc() { "${SERVICE_CONTROL}" "$@"; }

marker="${state_dir}/setup-done"
first_run=true
[[ -f ${marker} ]] && first_run=false

if [[ ${PRODUCTION} == "true" ]]; then
  missing=()
  for p in $(packages); do
    [[ $(dpkg-query -W -f '${db:Status-Status}' "${p}" 2>/dev/null) == installed ]] || missing+=("${p}")
  done
  if ((${#missing[@]} > 0)); then
    fail_first_boot "packages not installed: ${missing[*]}"
    exit 1
  fi
  rm -f "${failed_file}"
fi

mkdir -p "${state_dir}" "${YQ_ROOT}/var/lib/valkey" "${YQ_ROOT}/var/log/valkey"
if [[ ${PRODUCTION} == "true" ]]; then
  chown yquant:yquant "${state_dir}"
else
  # The lab has no systemd to create runtime directories.
  mkdir -p "${YQ_ROOT}/run/valkey" "${YQ_ROOT}/run/valkey-replica" "${YQ_ROOT}/run/sentinel" "${YQ_ROOT}/run/haproxy" "${YQ_ROOT}/var/lib/haproxy"
fi

policy_rc="${YQ_ROOT}/usr/sbin/policy-rc.d"
if [[ -f ${policy_rc} ]] && grep -q '^# yquant: hold package services' "${policy_rc}"; then
  rm -f "${policy_rc}"
  log "removed ${policy_rc}: package services may start again"
fi

apply_firewall() {
  local rules="${YQ_ROOT}/etc/yquant/firewall.rules" proto port source name position inserted=0 appended=0 kept=0
  while read -r proto port source name; do
    [[ -z ${proto} || ${proto} == \#* ]] && continue
    local spec=(-p "${proto}" -s "${source}" -m state --state NEW -m "${proto}" --dport "${port}"
      -m comment --comment "yquant-${name}" -j ACCEPT)
    if iptables -C INPUT "${spec[@]}" 2>/dev/null; then
      kept=$((kept + 1))
      continue
    fi
    position=$(iptables -L INPUT --line-numbers -n | awk '$2 == "REJECT" { print $1; exit }')
    if [[ -n ${position} ]]; then
      iptables -I INPUT "${position}" "${spec[@]}"
      inserted=$((inserted + 1))
    else
      iptables -A INPUT "${spec[@]}"
      appended=$((appended + 1))
    fi
  done <"${rules}"
  netfilter-persistent save >/dev/null
  log "firewall: ${inserted} rule(s) inserted above REJECT, ${appended} appended, ${kept} already there; rules saved"
  if ! iptables -L INPUT --line-numbers -n | awk '$2 == "REJECT" { found = 1 } END { exit !found }'; then
    local policy
    policy=$(iptables -L INPUT --line-numbers -n | sed -n '1s/.*(policy \([A-Z]*\)).*/\1/p')
    if [[ ${policy} != "DROP" ]]; then
      log "firewall: WARNING: no REJECT in INPUT, policy ${policy:-unknown}: the host firewall restricts nothing" >&2
    fi
  fi
}

if [[ ${HOST_FIREWALL} == "on" ]]; then
  apply_firewall
else
  log "firewall: HOST_FIREWALL=${HOST_FIREWALL}, skipped"
fi

# Restarts the units on the first run, else starts those not running. One call for several units:
# systemd runs their jobs side by side, and so does the lab's shim.
ensure_service() {
  local unit stopped=()
  if [[ ${first_run} == "true" ]]; then
    svc restart "$@"
    return
  fi
  for unit in "$@"; do
    svc is-active "${unit}" >/dev/null 2>&1 || stopped+=("${unit}")
  done
  [[ ${#stopped[@]} -eq 0 ]] || svc start "${stopped[@]}"
}

if [[ ${PRODUCTION} == "true" ]]; then
  # Valkey forks for AOF rewrites: overcommit. It binds the private address: after network-online.
  echo "vm.overcommit_memory = 1" >"${YQ_ROOT}/etc/sysctl.d/60-yquant-valkey.conf"
  sysctl -q -p "${YQ_ROOT}/etc/sysctl.d/60-yquant-valkey.conf"
  mkdir -p "${YQ_ROOT}/etc/systemd/system/valkey-.service.d"
  printf '[Unit]\nWants=network-online.target\nAfter=network-online.target\n' >"${YQ_ROOT}/etc/systemd/system/valkey-.service.d/yquant.conf"
  svc enable valkey-server >/dev/null 2>&1 || true
  svc enable valkey-sentinel >/dev/null 2>&1 || true
  [[ -z ${MESSAGE_REPLICA_PORT:-} ]] || svc enable valkey-server@replica >/dev/null 2>&1 || true
fi
# The token volume: by label, else the blank disk of its size (no filesystem, no partition table:
# lsblk lists 3 columns, and blkid -p finds nothing) is formatted; never an existing filesystem.
if [[ -n ${TOKEN_DATA_DIR:-} && ${PRODUCTION} == "true" ]]; then
  m=${TOKEN_VOLUME_MOUNT} label=${TOKEN_VOLUME_LABEL}
  if ! mountpoint -q "${m}"; then
    for ((i = 0; i < 120; i++)); do
      d=$(blkid -L "${label}") && break
      d=$(lsblk -dbnpo NAME,SIZE,TYPE,FSTYPE,PTTYPE | awk -v s=$((TOKEN_VOLUME_GBS << 30)) '$2 == s && $3 == "disk" && NF == 3 { print $1; exit }')
      [[ -n ${d} ]] && ! blkid -p "${d}" >/dev/null && mkfs.ext4 -q -L "${label}" "${d}" && log "token volume: ${d} was blank: formatted" && break
      d="" && sleep 5
    done
    [[ -n ${d} ]] || {
      fail_first_boot "token volume: no disk labelled ${label} nor a blank ${TOKEN_VOLUME_GBS} GB one after 600 s"
      exit 1
    }
    grep -q "^LABEL=${label} " /etc/fstab || echo "LABEL=${label} ${m} ext4 defaults,nofail 0 2" >>/etc/fstab
    mkdir -p "${m}" && mount "${m}"
  fi
  mkdir -p /etc/systemd/system/valkey-server.service.d
  # The packaged unit has ProtectSystem=strict: without ReadWritePaths the volume is read-only to
  # Valkey ("Can't open or create append-only dir", found on the VMs).
  printf '[Unit]\nRequiresMountsFor=%s\n[Service]\nReadWritePaths=%s\n' "${m}" "${TOKEN_DATA_DIR}" \
    >/etc/systemd/system/valkey-server.service.d/yquant-tokens.conf
  log "token volume: LABEL=${label} on ${m}"
fi
if [[ -n ${TOKEN_DATA_DIR:-} ]]; then
  mkdir -p "${YQ_ROOT}${TOKEN_DATA_DIR}"
  if [[ ${PRODUCTION} == "true" ]]; then chown valkey:valkey "${TOKEN_DATA_DIR}"; fi
fi
# converge.sh compares Valkey's and Sentinel's rendered files with the last ones applied (both
# processes rewrite their live files): at first boot that is what cloud-init just wrote.
if [[ ${first_run} == "true" ]]; then
  mkdir -p "${state_dir}/converge"
  for conf in "${YQ_ROOT}/etc/valkey/valkey.conf" "${YQ_ROOT}/etc/valkey/valkey-replica.conf" "${YQ_ROOT}/etc/valkey/sentinel.conf"; do
    [[ -f ${conf} ]] && cp "${conf}" "${state_dir}/converge/$(printf '%s' "${conf}" | tr '/' '_')"
  done
fi
svc daemon-reload
ensure_service valkey-server
# The message store's never-promoted replica (MESSAGE_REPLICA_PORT, the gate). Its file names the
# bootstrap master; after a failover (a gate rebuilt later) it follows the master the other nodes'
# Sentinels name: Sentinel never reconfigures a replica that no master lists.
if [[ -n ${MESSAGE_REPLICA_PORT:-} ]]; then
  ensure_service valkey-server@replica
  # shellcheck source=/dev/null
  source "${YQ_ROOT}/etc/yquant/valkey.env" && source "${YQ_ROOT}/etc/yquant/valkey-admin.env"
  m=""
  for s in ${SENTINELS//,/ }; do
    [[ ${s%:*} == "${NODE_IP}" ]] && continue
    m=$(REDISCLI_AUTH=${SENTINEL_PASSWORD} timeout 3 valkey-cli --no-auth-warning --user "${SENTINEL_USER}" -h "${s%:*}" -p "${s##*:}" sentinel get-master-addr-by-name "${SENTINEL_MASTER_NAME}" 2>/dev/null | paste -sd ' ') && [[ ${m} =~ ^[0-9a-fA-F.:]+\ [0-9]+$ ]] && break
    m=""
  done
  # REPLICAOF of the master it already follows changes nothing.
  for c in "replicaof ${m}" "config rewrite"; do
    # shellcheck disable=SC2086 # one word per argument
    [[ -z ${m} ]] || REDISCLI_AUTH=${MESSAGE_ADMIN_PASSWORD} timeout 5 valkey-cli --no-auth-warning --user "${VALKEY_ADMIN_USER}" -h "${NODE_LOOPBACK}" -p "${MESSAGE_REPLICA_PORT}" ${c} >/dev/null || log "message replica: ${c} failed"
  done
fi
ensure_service valkey-sentinel

if [[ ${NODE_ROLE} == "gate" ]]; then
  haproxy_dir="${YQ_ROOT}/etc/haproxy"
  pem="${haproxy_dir}/certs/yquant.pem"
  mkdir -p "${haproxy_dir}/certs" "${haproxy_dir}/yquant"
  if [[ ! -s ${pem} ]]; then
    work=$(mktemp -d)
    (
      umask 077
      openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 -subj "/CN=yq-gate" \
        -addext "subjectAltName=IP:${NODE_IP}" -keyout "${work}/key.pem" -out "${work}/cert.pem" 2>/dev/null
      cat "${work}/cert.pem" "${work}/key.pem" >"${pem}.tmp"
      mv -f "${pem}.tmp" "${pem}"
    )
    rm -rf "${work}"
    log "no TLS PEM given: made a self-signed certificate at ${pem}"
  fi
  # An empty server-state file (format version 1 only) keeps HAProxy's first start free of warnings.
  server_state="${YQ_ROOT}/var/lib/haproxy/server-state"
  [[ -s ${server_state} ]] || echo 1 >"${server_state}"
  # The live color is in the switch map, which HAProxy loads: the first one says blue.
  "${script_dir}/switch-active.sh" init
  haproxy -c -q -f "${haproxy_dir}/haproxy.cfg"
  [[ ${PRODUCTION} == "true" ]] && svc enable haproxy >/dev/null 2>&1
  ensure_service haproxy
else
  for service in ${APP_SERVICES}; do
    svc enable "yquant-${service}" >/dev/null 2>&1 || svc enable "yquant-${service}"
  done
  if [[ ! -e ${YQ_ROOT}/opt/yquant/current ]]; then
    log "no release deployed yet: deploying the placeholder"
    "${script_dir}/deploy.sh" placeholder
  else
    for service in ${APP_SERVICES}; do
      ensure_service "yquant-${service}"
    done
  fi
fi

# Monitoring (cloud-init/monitoring.ts): exporters everywhere, Prometheus and Alertmanager on the
# engines. The metrics directory is shared with Sentinel's notification script (user valkey).
mkdir -p "${state_dir}/metrics"
[[ ${PRODUCTION} == "true" ]] && chgrp valkey "${state_dir}/metrics" && chmod 0775 "${state_dir}/metrics"
[[ ${PRODUCTION} == "true" ]] && svc daemon-reload
read -ra unit_list <<<"${MONITORING_UNITS}"
if [[ ${#unit_list[@]} -gt 0 ]]; then
  [[ ${PRODUCTION} == "true" ]] && svc enable "${unit_list[@]}" >/dev/null 2>&1
  ensure_service "${unit_list[@]}"
fi

touch "${marker}"
log "done"
