#!/usr/bin/env bash
# switch-active.sh: moves live traffic to <color>, on the gate. Hitless, guarded, with a drain.
#
#   usage: switch-active.sh <blue|green> [--drain SECONDS] [--force]
#
# 1. Refuses a target whose /health fails (unless --force): clear message, exit 1, nothing changed.
# 2. Switching to the color already active is a no-op (exit 0).
# 3. Writes the old color into draining.lst, copies the target's variant over haproxy.cfg atomically
#    (checked first with `haproxy -c`), saves server state through the admin socket, and reloads
#    HAProxy (master-worker: hitless). Records the color in var/lib/yquant/active-color.
# 4. After the drain window (DRAIN_SECONDS, or --drain; 0..3600) it empties draining.lst and clears
#    the ACL on the admin socket, so cookies naming the old color go to the new active. Interrupting
#    the wait ends the drain early (trap). See docs/architecture.md, "HAProxy: switch and drain".
set -euo pipefail

usage() { echo "usage: switch-active.sh <blue|green> [--drain SECONDS] [--force]" >&2; }
fail_usage() {
  echo "switch-active.sh: $1" >&2
  usage
  exit 2
}

target=""
drain=""
force=false
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --force) force=true ;;
    --drain)
      [[ $# -ge 2 ]] || fail_usage "--drain needs a number of seconds"
      drain=$2
      shift
      ;;
    --drain=*) drain=${1#--drain=} ;;
    blue | green)
      [[ -z ${target} ]] || fail_usage "only one color may be given"
      target=$1
      ;;
    -*) fail_usage "unknown option '$1'" ;;
    *) fail_usage "unknown color '$1': expected blue or green" ;;
  esac
  shift
done
[[ -n ${target} ]] || fail_usage "missing the target color (blue or green)"
if [[ -n ${drain} ]]; then
  if [[ ! ${drain} =~ ^[0-9]{1,4}$ ]] || ((10#${drain} > 3600)); then
    fail_usage "invalid --drain '${drain}': a whole number of seconds from 0 to 3600"
  fi
  drain=$((10#${drain}))
fi

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
YQ_ROOT=$(cd -- "${script_dir}/../../.." && pwd)
[[ ${YQ_ROOT} == "/" ]] && YQ_ROOT=""
export YQ_ROOT
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env"

if [[ ${NODE_ROLE} != "gate" ]]; then
  echo "switch-active.sh: runs on the gate only; this node is ${NODE_NAME}" >&2
  exit 2
fi
drain=${drain:-${DRAIN_SECONDS}}

log() { printf 'switch-active.sh: %s\n' "$*"; }
# Services must not inherit the lock (fd 9).
svc() { "${SERVICE_CONTROL}" "$@" 9>&-; }

state_dir="${YQ_ROOT}/var/lib/yquant"
color_file="${state_dir}/active-color"
haproxy_dir="${YQ_ROOT}/etc/haproxy"
config="${haproxy_dir}/haproxy.cfg"
variant="${haproxy_dir}/yquant/haproxy-active-${target}.cfg"
draining="${haproxy_dir}/yquant/draining.lst"
socket="${YQ_ROOT}/run/haproxy/admin.sock"
server_state="${YQ_ROOT}/var/lib/haproxy/server-state"
mkdir -p "${state_dir}"

exec 9>"${state_dir}/switch.lock"
if ! flock -w 30 9; then
  echo "switch-active.sh: another switch holds ${state_dir}/switch.lock" >&2
  exit 1
fi

current=$(cat "${color_file}" 2>/dev/null || echo blue)
if [[ ${current} == "${target}" ]]; then
  log "${target} is already active: nothing to do"
  exit 0
fi

if [[ ${target} == "blue" ]]; then target_ip=${BLUE_IP}; else target_ip=${GREEN_IP}; fi
health_url="http://${target_ip}:${APP_PORT}/health"
if ! body=$(curl -fsS --max-time 3 "${health_url}" 2>&1) || [[ ${body} != *'"status": "ok"'* ]]; then
  reason=$(printf '%s' "${body:-no answer}" | tr '\n' ' ' | cut -c1-200)
  if [[ ${force} != "true" ]]; then
    echo "switch-active.sh: refusing to switch to ${target}: GET ${health_url} failed (${reason}); traffic stays on ${current}. Use --force to switch anyway." >&2
    exit 1
  fi
  echo "switch-active.sh: WARNING: ${target} is unhealthy (GET ${health_url}: ${reason}); switching anyway (--force)" >&2
fi

[[ -f ${variant} ]] || {
  echo "switch-active.sh: missing ${variant}" >&2
  exit 1
}

admin() {
  command -v socat >/dev/null 2>&1 || return 1
  printf '%s\n' "$1" | timeout 5 socat -t 2 stdio "unix-connect:${socket}"
}

# 1. The old color keeps its sessions during the drain; the new config is checked before use.
previous_draining=$(cat "${draining}" 2>/dev/null || true)
echo "${current}" >"${draining}.tmp"
mv -f "${draining}.tmp" "${draining}"
cp "${variant}" "${config}.new"
if ! check=$(haproxy -c -q -f "${config}.new" 2>&1); then
  rm -f "${config}.new"
  printf '%s\n' "${previous_draining}" | sed '/^$/d' >"${draining}"
  echo "switch-active.sh: haproxy -c rejected ${variant}; nothing changed: ${check}" >&2
  exit 1
fi
cp -p "${config}" "${config}.previous"
mv -f "${config}.new" "${config}"

# 2. Keep health states across the reload; a stale state file is worse than none.
if admin "show servers state" >"${server_state}.tmp" 2>/dev/null && [[ -s ${server_state}.tmp ]]; then
  mv -f "${server_state}.tmp" "${server_state}"
else
  rm -f "${server_state}.tmp"
  echo 1 >"${server_state}"
  log "could not save server state (admin socket ${socket}); reloading without it"
fi

if ! svc reload haproxy; then
  mv -f "${config}.previous" "${config}"
  printf '%s\n' "${previous_draining}" | sed '/^$/d' >"${draining}"
  svc reload haproxy || true
  echo "switch-active.sh: reloading HAProxy failed; put the ${current} configuration back" >&2
  exit 1
fi
rm -f "${config}.previous"
echo "${target}" >"${color_file}.tmp"
mv -f "${color_file}.tmp" "${color_file}"
log "live traffic now goes to ${target} (was ${current})"

# 3. Bounded wait until the new worker answers on the admin socket with the new active server.
command -v socat >/dev/null 2>&1 || log "socat is missing: no admin socket (the drain ends with a reload)"
for _ in $(seq 1 40); do
  command -v socat >/dev/null 2>&1 || break
  if stat=$(admin "show stat" 2>/dev/null) &&
    printf '%s\n' "${stat}" | awk -F, -v t="${target}" '$1 == "yquant_backend" && $2 == t && $21 == 0 { ok = 1 } END { exit !ok }'; then
    break
  fi
  sleep 0.25
done

end_drain() {
  : >"${draining}"
  if ! admin "clear acl ${draining}" >/dev/null 2>&1; then
    # Without the admin socket, a reload reads the now empty file.
    svc reload haproxy || true
  fi
}

if ((drain > 0)); then
  # shellcheck disable=SC2317 # invoked by the trap
  on_interrupt() {
    end_drain
    log "interrupted: drain of ${current} ended early"
    exit 130
  }
  trap on_interrupt INT TERM HUP
  log "draining ${current} for ${drain}s: cookies naming ${current} are still honoured"
  for ((i = 0; i < drain; i++)); do
    sleep 1
  done
  trap - INT TERM HUP
fi
end_drain
log "drain over: requests naming ${current} now go to ${target}"
