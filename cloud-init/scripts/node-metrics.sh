#!/usr/bin/env bash
# node-metrics.sh: this node's yquant_* metrics for node_exporter's textfile collector
# (var/lib/yquant/metrics/node.prom), rewritten atomically every SECONDS by yquant-node-metrics.
#
#   usage: node-metrics.sh [--once | --every SECONDS]
#
# gate: yquant_drain_entries (lines in draining.lst), yquant_switch_running (switch.lock held: a
# switch or its drain window is under way), yquant_tls_certificate_expiry_timestamp_seconds,
# yquant_active_color_info. Every node: seeds sentinel-events.prom with zero counters, so the
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

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
YQ_ROOT=$(cd -- "${script_dir}/../../.." && pwd)
[[ ${YQ_ROOT} == "/" ]] && YQ_ROOT=""
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env"

dir="${YQ_ROOT}/var/lib/yquant/metrics"
state="${YQ_ROOT}/var/lib/yquant"
pem="${YQ_ROOT}/etc/haproxy/certs/yquant.pem"
mkdir -p "${dir}"
# Sentinel (user valkey) writes its events here too.
[[ ${PRODUCTION} == "true" ]] && chgrp valkey "${dir}" && chmod 0775 "${dir}"
cert_mtime="" cert_expiry=""

write_once() {
  local tmp entries=0 running=0 color
  tmp=$(mktemp "${dir}/.node.prom.XXXXXX")
  {
    echo "# TYPE yquant_node_metrics_timestamp_seconds gauge"
    echo "yquant_node_metrics_timestamp_seconds $(date +%s)"
    if [[ ${NODE_ROLE} == "gate" ]]; then
      entries=$(grep -c . "${YQ_ROOT}/etc/haproxy/yquant/draining.lst" 2>/dev/null || true)
      # switch-active.sh holds this lock from its start to the end of its drain window.
      if [[ -f ${state}/switch.lock ]] && ! flock -n "${state}/switch.lock" true; then running=1; fi
      echo "# TYPE yquant_drain_entries gauge"
      echo "yquant_drain_entries ${entries:-0}"
      echo "# TYPE yquant_switch_running gauge"
      echo "yquant_switch_running ${running}"
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
      color=$(cat "${state}/active-color" 2>/dev/null || echo unknown)
      echo "# TYPE yquant_active_color_info gauge"
      echo "yquant_active_color_info{color=\"${color}\"} 1"
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
