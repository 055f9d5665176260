#!/usr/bin/env bash
# health-check.sh: checks this node's services. Exit status 0 only when every check passes.
#
#   usage: health-check.sh [--json]
#
# Engines: the app (/health, and every app unit active). Gate: HAProxy (running, stats answering)
# and the switch (what HAProxy routes agrees with the switch map on disk), and the message replica
# (a replica of the master Sentinel names, link up). Every node: Valkey (PING with the password, and
# its role) and Sentinel (its view of the master and how many Sentinels it knows, at least the quorum). --json prints one
# object with a fixed key order: {"node":..,"ok":..,"checks":[{"name":..,"ok":..,"detail":..},..]}.
set -euo pipefail

usage() { echo "usage: health-check.sh [--json]" >&2; }
json=false
for arg in "$@"; do
  case ${arg} in
    --json) json=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "health-check.sh: unknown argument '${arg}'" >&2
      usage
      exit 2
      ;;
  esac
done

# shellcheck source=cloud-init/scripts/lib/node-env.sh
source "${BASH_SOURCE[0]%/*}/lib/node-env.sh"

names=()
oks=()
details=()
record() {
  names+=("$1")
  oks+=("$2")
  # Details stay printable and JSON-safe.
  details+=("$(printf '%s' "$3" | tr -d "\"\\\\" | tr '\n\t' '  ' | cut -c1-200)")
}

# ACL users (docs/valkey.md): this node's stores as their admin user, the other store as the apps do.
vcli_at() {
  local host=$1 port=$2 user=$3 password=$4
  shift 4
  REDISCLI_AUTH=${password} timeout 5 valkey-cli --no-auth-warning --user "${user}" -h "${host}" -p "${port}" "$@" 2>&1
}
vcli() { vcli_at "${NODE_LOOPBACK}" "$@"; }

# A first boot that failed (packages) says so here, whatever else happens to answer.
if [[ -s ${YQ_ROOT}/var/lib/yquant/first-boot-failed ]]; then
  record first-boot false "$(head -n 1 "${YQ_ROOT}/var/lib/yquant/first-boot-failed")"
fi

if [[ ${NODE_ROLE} == "engine" ]]; then
  # The app binds the private address only (HAProxy reaches it there), not the loopback.
  # The /health contract (docs/architecture.md): a JSON object, "status" "ok", "color" this engine.
  if ! body=$(curl -fsS --max-time 3 "http://${NODE_IP}:${APP_PORT}/health" 2>&1); then
    record app false "GET /health on ${NODE_IP}:${APP_PORT}: ${body:-no answer}"
  elif ! got=$(printf '%s' "${body}" | jq -er 'if type == "object" then "\(.status) \(.color) \(.release)" else error("not an object") end' 2>/dev/null); then
    record app false "GET /health on ${NODE_IP}:${APP_PORT}: not a JSON object: ${body}"
  elif [[ ${got} != "ok ${NODE_NAME} "* ]]; then
    record app false "GET /health on ${NODE_IP}:${APP_PORT}: status, color, release are '${got}', expected 'ok ${NODE_NAME} ...'"
  else
    record app true "status ok, color ${NODE_NAME}, release ${got#ok "${NODE_NAME}" }"
  fi
  for service in ${APP_SERVICES}; do
    if "${SERVICE_CONTROL}" is-active "yquant-${service}" >/dev/null 2>&1; then
      record "unit:yquant-${service}" true "active"
    else
      record "unit:yquant-${service}" false "not active"
    fi
  done
else
  if "${SERVICE_CONTROL}" is-active haproxy >/dev/null 2>&1 &&
    curl -fsS --max-time 3 -o /dev/null "http://${NODE_LOOPBACK}:${STATS_PORT}/stats;csv" 2>/dev/null; then
    record haproxy true "running, stats answering on ${NODE_LOOPBACK}:${STATS_PORT}"
  else
    record haproxy false "not running, or stats not answering on ${NODE_LOOPBACK}:${STATS_PORT}"
  fi
  # What HAProxy routes must agree with the switch map on disk (a reload would change it otherwise).
  if switch_status=$("${script_dir}/switch-active.sh" status 2>&1); then
    record switch true "${switch_status}"
  else
    record switch false "${switch_status}"
  fi
fi

if pong=$(vcli "${VALKEY_PORT}" "${VALKEY_ADMIN_USER}" "${LOCAL_ADMIN_PASSWORD}" ping) && [[ ${pong} == "PONG" ]]; then
  role=$(vcli "${VALKEY_PORT}" "${VALKEY_ADMIN_USER}" "${LOCAL_ADMIN_PASSWORD}" info replication | tr -d '\r' | awk -F: '$1 == "role" { print $2 }')
  record valkey true "PONG, role ${role:-unknown}"
else
  record valkey false "PING on ${NODE_LOOPBACK}:${VALKEY_PORT}: ${pong:-no answer}"
fi

if master=$(vcli "${SENTINEL_PORT}" "${SENTINEL_ADMIN_USER}" "${SENTINEL_ADMIN_PASSWORD}" sentinel get-master-addr-by-name "${SENTINEL_MASTER_NAME}") &&
  [[ $(printf '%s\n' "${master}" | wc -l) -eq 2 ]]; then
  master_addr=$(printf '%s\n' "${master}" | paste -sd: -)
  view=$(vcli "${SENTINEL_PORT}" "${SENTINEL_ADMIN_USER}" "${SENTINEL_ADMIN_PASSWORD}" sentinel master "${SENTINEL_MASTER_NAME}" | tr -d '\r')
  field() { printf '%s\n' "${view}" | awk -v key="$1" 'found { print; exit } $0 == key { found = 1 }'; }
  others=$(field num-other-sentinels)
  flags=$(field flags)
  known=$((${others:-0} + 1))
  if [[ ${flags} == *down* || ${flags} == *disconnected* ]]; then
    record sentinel false "master ${master_addr} is ${flags}, ${known} sentinels known"
  elif ((known >= SENTINEL_QUORUM)); then
    record sentinel true "master ${master_addr}, ${known} sentinels known"
  else
    record sentinel false "master ${master_addr}, only ${known} sentinels known (quorum ${SENTINEL_QUORUM})"
  fi
else
  record sentinel false "no master '${SENTINEL_MASTER_NAME}' on ${NODE_LOOPBACK}:${SENTINEL_PORT}: ${master:-no answer}"
fi

# The message store's never-promoted replica (the gate): a replica of Sentinel's master, link up.
if [[ -n ${MESSAGE_REPLICA_PORT:-} ]]; then
  # INFO lists role, master_host, master_port, master_link_status in this order.
  r=$(vcli "${MESSAGE_REPLICA_PORT}" "${VALKEY_ADMIN_USER}" "${MESSAGE_ADMIN_PASSWORD}" info replication | tr -d '\r' | awk -F: '$1 ~ /^(role|master_host|master_port|master_link_status)$/ { printf "%s ", $2 }') || r=""
  if [[ -n ${master_addr:-} && ${r} == "slave ${master_addr%:*} ${master_addr##*:} up " ]]; then
    record message-replica true "replica of ${master_addr}, link up"
  else
    record message-replica false "role, master, link: ${r:-no answer}(Sentinel names ${master_addr:-none})"
  fi
fi

# The other store this node depends on: the token Valkey (engines), the message master (gate).
if [[ ${NODE_ROLE} == "engine" ]]; then
  other_name=token-valkey
  other_addr=${TOKEN_VALKEY}
  other_user=${TOKEN_VALKEY_USER} other_password=${TOKEN_VALKEY_PASSWORD}
else
  other_name=message-master
  other_addr=${master_addr:-}
  other_user=${VALKEY_ADMIN_USER} other_password=${MESSAGE_ADMIN_PASSWORD}
fi
if [[ -z ${other_addr} ]]; then
  record "${other_name}" false "address unknown (Sentinel has no master)"
elif pong=$(vcli_at "${other_addr%:*}" "${other_addr##*:}" "${other_user}" "${other_password}" ping) && [[ ${pong} == "PONG" ]]; then
  record "${other_name}" true "PONG from ${other_addr}"
else
  record "${other_name}" false "PING ${other_addr}: ${pong:-no answer}"
fi

all_ok=true
for ok in "${oks[@]}"; do
  [[ ${ok} == "true" ]] || all_ok=false
done

if [[ ${json} == "true" ]]; then
  out="{\"node\":\"${NODE_NAME}\",\"ok\":${all_ok},\"checks\":["
  for i in "${!names[@]}"; do
    ((i > 0)) && out+=","
    out+="{\"name\":\"${names[i]}\",\"ok\":${oks[i]},\"detail\":\"${details[i]}\"}"
  done
  printf '%s]}\n' "${out}"
else
  for i in "${!names[@]}"; do
    if [[ ${oks[i]} == "true" ]]; then state=ok; else state=FAIL; fi
    printf '%-4s %-22s %s\n' "${state}" "${names[i]}" "${details[i]}"
  done
  if [[ ${all_ok} == "true" ]]; then echo "${NODE_NAME}: healthy"; else echo "${NODE_NAME}: UNHEALTHY"; fi
fi
[[ ${all_ok} == "true" ]]
