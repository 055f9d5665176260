#!/usr/bin/env bash
# sentinel-event.sh: Sentinel's notification-script (valkey.ts renders `sentinel notification-script`).
# Sentinel runs it for each warning-level event (+sdown, +odown, +switch-master, ...) with the event
# type and its description. It logs the event (journald on a VM, a file in the lab) and keeps
# yquant_sentinel_events_total and yquant_sentinel_event_last_timestamp_seconds per event in
# var/lib/yquant/metrics/sentinel-events.prom for node_exporter. Always exits 0: Sentinel retries
# a script that exits 1, and an event must never wait on metrics.
#
#   usage: sentinel-event.sh <event-type> <description> | --seed
set -euo pipefail
# Always exit 0 (Sentinel retries a script that exits 1; an event must never wait on metrics).
trap 'exit 0' ERR

# shellcheck source=cloud-init/scripts/lib/node-root.sh
source "${BASH_SOURCE[0]%/*}/lib/node-root.sh"
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env" 2>/dev/null || exit 0

dir="${YQ_ROOT}/var/lib/yquant/metrics"
counts="${dir}/sentinel-events.state"
known="+sdown -sdown +odown -odown +switch-master +failover-end +failover-end-for-timeout +tilt -tilt"
event=${1:-}
if [[ ${event} != "--seed" ]]; then
  [[ ${event} =~ ^[-+][a-z-]{1,40}$ ]] || exit 0
  line="${event} ${2:-}"
  if [[ ${PRODUCTION:-false} == "true" ]]; then
    logger -t yquant-sentinel -p daemon.warning -- "${line}" || true
  else
    mkdir -p "${YQ_ROOT}/var/log/yquant"
    printf '%s %s %s\n' "$(date -u +%FT%T.%3NZ)" "${NODE_NAME:-?}" "${line}" >>"${YQ_ROOT}/var/log/yquant/sentinel-events.log"
  fi
fi
# Only the events alerts and operators use get a metric; the rest are logged only (a failover
# brings a burst of events, and each metric update is serialised below).
[[ ${event} == "--seed" || " ${known} " == *" ${event} "* ]] || exit 0
mkdir -p "${dir}" 2>/dev/null || exit 0
exec 8>>"${dir}/.sentinel.lock" || exit 0
# Sentinel kills a script after 60 s; wait for the lock well within that.
flock -w 45 8 || exit 0
now=$(date +%s)
touch "${counts}"
awk -v event="${event}" -v now="${now}" -v known="${known}" '
  { count[$1] = $2; last[$1] = $3 }
  END {
    n = split(known, k, " ")
    for (i = 1; i <= n; i++) if (!(k[i] in count)) { count[k[i]] = 0; last[k[i]] = 0 }
    if (event != "--seed") { count[event] += 1; last[event] = now }
    for (e in count) print e, count[e], last[e]
  }' "${counts}" >"${counts}.tmp" || exit 0
sort -o "${counts}.tmp" "${counts}.tmp"
mv -f "${counts}.tmp" "${counts}"
{
  echo "# TYPE yquant_sentinel_events_total counter"
  awk '{ printf "yquant_sentinel_events_total{event=\"%s\"} %s\n", $1, $2 }' "${counts}"
  echo "# TYPE yquant_sentinel_event_last_timestamp_seconds gauge"
  awk '{ printf "yquant_sentinel_event_last_timestamp_seconds{event=\"%s\"} %s\n", $1, $3 }' "${counts}"
} >"${dir}/.sentinel-events.prom.tmp"
chmod 0644 "${dir}/.sentinel-events.prom.tmp"
mv -f "${dir}/.sentinel-events.prom.tmp" "${dir}/sentinel-events.prom"
exit 0
