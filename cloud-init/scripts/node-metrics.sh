#!/usr/bin/env bash
# node-metrics.sh: this node's yquant_* metrics for node_exporter's textfile collector
# (var/lib/yquant/metrics/node.prom), rewritten atomically every SECONDS by yquant-node-metrics.
#
#   usage: node-metrics.sh [--once | --every SECONDS]
#
# gate: yquant_switch_running (switch.lock held), yquant_tls_certificate_expiry_timestamp_seconds,
# and from HAProxy's runtime switch map yquant_live_color{color} (1 for the color it routes live
# traffic to) and yquant_drain_end_timestamp_seconds{color} (0: no drain). Every node: seeds sentinel-events.prom with zero counters, so the
# first Sentinel event is an increase (sentinel-event.sh writes it afterwards).
set -euo pipefail

usage() { echo "usage: node-metrics.sh [--once | --every SECONDS]" >&2; }
every=0
case ${1:-} in
  --once) ;;
  --every)
    [[ ${2:-} =~ ^[1-9][0-9]{0,3}$ ]] || {
      echo "node-metrics.sh: --every needs a whole number of seconds from 1 to 9999" >&2
      usage
      exit 2
    }
    every=$2
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    usage
    exit 2
    ;;
esac

# shellcheck source=cloud-init/scripts/lib/node-root.sh
source "${BASH_SOURCE[0]%/*}/lib/node-root.sh"
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env"

dir="${YQ_ROOT}/var/lib/yquant/metrics"
state="${YQ_ROOT}/var/lib/yquant"
pem="${YQ_ROOT}/etc/haproxy/certs/yquant.pem"
mkdir -p "${dir}"
# Sentinel (user valkey) writes its events here too.
[[ ${PRODUCTION} == "true" ]] && chgrp valkey "${dir}" && chmod 0775 "${dir}"
cert_mtime="" cert_expiry=""
map="${YQ_ROOT}/etc/haproxy/yquant/switch.map"
socket="${YQ_ROOT}/run/haproxy/admin.sock"

# Whether some process holds an flock on <file> (its device:inode in /proc/locks; waiters start "->").
lock_held() {
  local dev ino id
  [[ -f $1 ]] || return 1
  read -r dev ino < <(stat -c '%D %i' "$1") || return 1
  dev=$((16#${dev}))
  id=$(printf '%02x:%02x:%s' $(((dev >> 8) & 0xfff)) $(((dev & 0xff) | ((dev >> 12) & 0xfff00))) "${ino}")
  awk -v id="${id}" '$2 == "FLOCK" && $6 == id { found = 1 } END { exit !found }' /proc/locks
}

write_once() {
  local tmp running=0 rt color c until
  tmp=$(mktemp "${dir}/.node.prom.XXXXXX")
  {
    echo "# TYPE yquant_node_metrics_timestamp_seconds gauge"
    echo "yquant_node_metrics_timestamp_seconds $(date +%s)"
    if [[ ${NODE_ROLE} == "gate" ]]; then
      # switch-active.sh holds this lock while a switch runs. Looked up in /proc/locks, never
      # taken: a switch takes it without waiting and would be refused meanwhile.
      if lock_held "${state}/switch.lock"; then running=1; fi
      echo "# TYPE yquant_switch_running gauge"
      echo "yquant_switch_running ${running}"
      # What HAProxy holds at runtime (not the file, which a switch writes before it commits): the
      # live color it routes to and each color's drain end. Absent when HAProxy does not answer.
      rt=$(printf 'show map %s\n' "${map}" | socat -t 2 -T 3 stdio "unix-connect:${socket}" 2>/dev/null || true)
      color=$(awk '$2 == "live" && ($3 == "blue" || $3 == "green") { print $3; exit }' <<<"${rt}")
      if [[ -n ${color} ]]; then
        echo "# TYPE yquant_live_color gauge"
        for c in blue green; do echo "yquant_live_color{color=\"${c}\"} $([[ ${c} == "${color}" ]] && echo 1 || echo 0)"; done
        echo "# TYPE yquant_drain_end_timestamp_seconds gauge"
        for c in blue green; do
          until=$(awk -v k="drain-${c}" '$2 == k && $3 ~ /^[0-9]+$/ { print $3; exit }' <<<"${rt}")
          echo "yquant_drain_end_timestamp_seconds{color=\"${c}\"} ${until:-0}"
        done
      fi
      if [[ -s ${pem} ]]; then
        if [[ $(stat -c %Y "${pem}") != "${cert_mtime}" ]]; then
          cert_mtime=$(stat -c %Y "${pem}")
          cert_expiry=$(date -d "$(openssl x509 -enddate -noout -in "${pem}" | cut -d= -f2)" +%s || true)
        fi
        if [[ -n ${cert_expiry} ]]; then
          echo "# TYPE yquant_tls_certificate_expiry_timestamp_seconds gauge"
          echo "yquant_tls_certificate_expiry_timestamp_seconds ${cert_expiry}"
        fi
      fi
    fi
  } >"${tmp}"
  chmod 0644 "${tmp}"
  mv -f "${tmp}" "${dir}/node.prom"
  [[ -f ${dir}/sentinel-events.prom ]] || "${script_dir}/sentinel-event.sh" --seed
}

write_once
while ((every > 0)); do
  sleep "${every}"
  write_once
done
