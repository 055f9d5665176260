#!/bin/bash
# switch-active.sh: moves live traffic to <color>, on the gate, through HAProxy's runtime API.
#
#   usage: switch-active.sh <blue|green> [--drain SECONDS] [--force]
#          switch-active.sh status [--json]
#          switch-active.sh init
#
# The live color is the `live` entry of etc/haproxy/yquant/switch.map. HAProxy routes by the map it
# holds at runtime; a reload or a restart loads the file. A switch takes switch.lock without waiting
# (a second one exits 1 saying what is in force), checks the target's /health, writes the file, then
# commits the map at runtime in one step (no reload). `status` exits 0 only when HAProxy answers and
# agrees with the file; `init` writes the first map. Steps, drain and recovery: docs/architecture.md,
# "HAProxy: switch and drain". /bin/bash, not env: one process start less on the switch's path.
set -euo pipefail
# YQ_SWITCH_TIMING=1: the wall-clock time of each step on stderr (the bench's breakdown, docs/lab.md).
mark() { [[ -z ${YQ_SWITCH_TIMING:-} ]] || printf 'switch-active.sh: timing %s %s\n' "$1" "${EPOCHREALTIME}" >&2; }
mark start

usage() {
  echo "usage: switch-active.sh <blue|green> [--drain SECONDS] [--force] | status [--json] | init" >&2
}
fail_usage() {
  echo "switch-active.sh: $1" >&2
  usage
  exit 2
}

action=""
target=""
drain=""
force=false
json=false
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help | help)
      usage
      exit 0
      ;;
    --force) force=true ;;
    --json) json=true ;;
    --drain)
      [[ $# -ge 2 ]] || fail_usage "--drain needs a number of seconds"
      drain=$2
      shift
      ;;
    --drain=*) drain=${1#--drain=} ;;
    blue | green | status | init)
      [[ -z ${action} ]] || fail_usage "only one color or command may be given"
      action=$1
      [[ $1 == blue || $1 == green ]] && target=$1
      ;;
    -*) fail_usage "unknown option '$1'" ;;
    *) fail_usage "unknown color '$1': expected blue or green" ;;
  esac
  shift
done
[[ -n ${action} ]] || fail_usage "missing the target color (blue or green)"
if [[ -n ${drain} ]]; then
  if [[ ! ${drain} =~ ^[0-9]{1,4}$ ]] || ((10#${drain} > 3600)); then
    fail_usage "invalid --drain '${drain}': a whole number of seconds from 0 to 3600"
  fi
  drain=$((10#${drain}))
fi
[[ ${json} == false || ${action} == status ]] || fail_usage "--json goes with status only"
[[ -n ${target} || (-z ${drain} && ${force} == false) ]] || fail_usage "--drain and --force go with a color"

script_dir=${BASH_SOURCE[0]%/*}
[[ ${script_dir} != "${BASH_SOURCE[0]}" ]] || script_dir=.
# No subshell on the switch's path when called by its absolute path (the cloud and the lab do).
[[ ${script_dir} == /* && ${script_dir} != */. && ${script_dir} != *./* ]] ||
  script_dir=$(cd -- "${script_dir}" && pwd)
YQ_ROOT=${script_dir%/opt/yquant/bin}
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
die() {
  printf 'switch-active.sh: %s\n' "$*" >&2
  exit 1
}
# The crash tests stop the script at a step (then SIGKILL it).
step() { [[ ${YQ_SWITCH_STOP_AT:-} != "$1" ]] || kill -STOP $$; }

state_dir="${YQ_ROOT}/var/lib/yquant"
map="${YQ_ROOT}/etc/haproxy/yquant/switch.map"
socket="${YQ_ROOT}/run/haproxy/admin.sock"
[[ -d ${state_dir} ]] || mkdir -p "${state_dir}"
rt="" disk="" want="" first=""

admin() { printf '%s\n' "$1" | socat -t 2 -T 5 stdio "unix-connect:${socket}" 2>/dev/null; }

# Helpers on the switch's path set the variable named by their last argument (no subshell).
# A map as canonical text, or "" without a valid live entry. $2: 1 for `show map` lines (with ids).
canonical() {
  local live="" db=0 dg=0 a b c k v
  while read -r a b c; do
    if [[ $2 == 1 ]]; then k=$b v=$c; else k=$a v=$b; fi
    case ${k} in
      live) [[ ${v} == blue || ${v} == green ]] && live=${v} ;;
      drain-blue) [[ ${v} =~ ^[0-9]{1,12}$ ]] && db=$((10#${v})) ;;
      drain-green) [[ ${v} =~ ^[0-9]{1,12}$ ]] && dg=$((10#${v})) ;;
    esac
  done <<<"$1"
  printf -v "$3" '%s' ""
  [[ -z ${live} ]] || printf -v "$3" 'live %s\ndrain-blue %s\ndrain-green %s' "${live}" "${db}" "${dg}"
}
field_to() {
  local k v
  while read -r k v; do [[ ${k} == "$2" ]] && printf -v "$3" '%s' "${v}" && return; done <<<"$1"
  if [[ $2 == live ]]; then printf -v "$3" '%s' ""; else printf -v "$3" 0; fi
}
field() {
  local value
  field_to "$1" "$2" value
  printf '%s' "${value}"
}
read_runtime() {
  local out
  out=$(admin "show map ${map}") || out=""
  canonical "${out}" 1 rt
}
read_disk() {
  local text=""
  [[ -f ${map} ]] && { IFS= read -r -d '' text <"${map}" || true; }
  canonical "${text}" 0 disk
}
utc() { TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T' "$1"; }
drain_text() {
  local now=${EPOCHSECONDS} c until
  for c in blue green; do
    until=$(field "$1" "drain-${c}")
    if [[ $(field "$1" live) != "${c}" ]] && ((until > now)); then
      printf '%s until %s (%s s left)' "${c}" "$(utc "${until}")" $((until - now))
      return
    fi
  done
  printf none
}
wanted() {
  if [[ $1 == blue ]]; then printf -v "$3" 'live blue\ndrain-blue 0\ndrain-green %s' "$2"; else
    printf -v "$3" 'live green\ndrain-blue %s\ndrain-green 0' "$2"; fi
}
# The /health contract (docs/architecture.md). Prints why the target fails it, or nothing.
health_problem() {
  local body got
  if ! body=$(curl -fsS --max-time 3 "$1" 2>&1); then
    printf 'no answer: %s' "$(printf '%s' "${body}" | tr '\n' ' ' | cut -c1-200)"
  elif ! got=$(printf '%s' "${body}" | jq -er 'if type == "object" then "\(.status) \(.color)" else error("not an object") end' 2>/dev/null); then
    printf 'not a JSON object: %s' "$(printf '%s' "${body}" | tr '\n' ' ' | cut -c1-200)"
  elif [[ ${got} != "ok $2" ]]; then
    printf "status and color are '%s', expected 'ok %s'" "${got}" "$2"
  fi
}

if [[ ${action} == init ]]; then
  if [[ -s ${map} ]]; then
    log "${map} exists: kept"
    exit 0
  fi
  mkdir -p "${map%/*}"
  wanted blue 0 first
  printf '%s\n' "${first}" >"${map}.tmp"
  mv -f "${map}.tmp" "${map}"
  log "wrote ${map}: live blue"
  exit 0
fi

if [[ ${action} == status ]]; then
  rt=""
  read_runtime || true
  read_disk
  live=$(field "${rt}" live)
  on_disk=$(field "${disk}" live)
  agree=false
  [[ -n ${rt} && ${rt} == "${disk}" ]] && agree=true
  if [[ ${json} == true ]]; then
    q() { if [[ -n $1 ]]; then printf '"%s"' "$1"; else printf null; fi; }
    printf '{"live":%s,"disk":%s,"agree":%s,"drain":"%s"}\n' "$(q "${live}")" "$(q "${on_disk}")" \
      "${agree}" "$(drain_text "${rt}")"
  else
    printf 'live (HAProxy): %s   on disk: %s   drain: %s\n' "${live:-unknown (HAProxy does not answer)}" \
      "${on_disk:-missing}" "$(drain_text "${rt}")"
    [[ -n ${rt} && ${rt} != "${disk}" ]] &&
      printf 'DISAGREE: HAProxy routes %s but %s holds %s: run switch-active.sh %s to repair\n' \
        "${live}" "${map}" "${on_disk:-nothing}" "${live}"
  fi
  [[ ${agree} == true ]]
  exit
fi

# The target's probe starts now, side by side with the lock and the read (and before the lock's fd
# exists, so it does not hold it); its verdict is read before anything is written (see "checked").
if [[ ${target} == "blue" ]]; then target_ip=${BLUE_IP}; else target_ip=${GREEN_IP}; fi
health_url="http://${target_ip}:${APP_PORT}/health"
exec {probe}< <(health_problem "${health_url}" "${target}")

# Never waits for the lock: a rollback must not queue behind anything.
exec 9>>"${state_dir}/switch.lock"
if ! flock -n 9; then
  rt=""
  read_runtime || true
  die "another switch is running ($(cat "${state_dir}/switch.intent" 2>/dev/null || echo unknown)); not switching to ${target}. In force: live $(field "${rt}" live), drain $(drain_text "${rt}")"
fi
TZ=UTC printf -v started '%(%Y-%m-%dT%H:%M:%SZ)T' "${EPOCHSECONDS}"
printf 'to %s, pid %s, started %s\n' "${target}" "$$" "${started}" >"${state_dir}/switch.intent"
mark locked
step locked

# One round trip: the map and a new version of it.
out=$(admin "show map ${map}; prepare map ${map}") || out=""
mark read
ver=""
[[ ${out} =~ New\ version\ created:\ *([0-9]+) ]] && ver=${BASH_REMATCH[1]}
[[ -n ${ver} ]] || die "HAProxy does not answer on ${socket} with ${map}; nothing changed"
canonical "${out}" 1 rt
read_disk
# A runtime map without a valid live entry routes to the map's default, blue.
field_to "${rt}" live current
current=${current:-blue}
now=${EPOCHSECONDS}

if [[ ${current} == "${target}" ]]; then
  # Keep the runtime's drain of the other color.
  if [[ ${target} == blue ]]; then other=green; else other=blue; fi
  field_to "${rt}" "drain-${other}" other_until
  ((other_until > now)) || other_until=0
  wanted "${target}" "${other_until}" want
else
  # The target is probed on every switch (started above; curl's --max-time bounds it). HAProxy's own
  # check state is no substitute: it lags an app that has just died by up to fall x inter, and a
  # switch read from it moved live traffic onto a stopped app (tests/render/e2e.test.ts, "refuses a
  # switch to a color whose app is down").
  read -rd '' reason <&"${probe}" || true
  mark probed
  if [[ -n ${reason} ]]; then
    [[ ${force} == true ]] || die "refusing to switch to ${target}: GET ${health_url} failed (${reason}); traffic stays on ${current}. Use --force to switch anyway."
    echo "switch-active.sh: WARNING: ${target} is unhealthy (GET ${health_url}: ${reason}); switching anyway (--force)" >&2
  fi
  old_until=0
  if ((drain > 0)); then old_until=$((now + drain)); fi
  wanted "${target}" "${old_until}" want
fi
step checked

# The file first: a reload from here on puts the target in force.
if [[ ${disk} != "${want}" ]]; then
  printf '%s\n' "${want}" >"${map}.tmp"
  mv -f "${map}.tmp" "${map}"
fi
mark written
step written

if [[ ${rt} != "${want}" ]]; then
  step prepared
  cmds=""
  while read -r key value; do cmds+="add map @${ver} ${map} ${key} ${value}; "; done <<<"${want}"
  admin "${cmds}commit map @${ver} ${map}" >/dev/null || true
  mark committed
  step committed
  read_runtime
  [[ -n ${rt} ]] || die "HAProxy stopped answering after the commit; run this again"
  [[ ${rt} == "${want}" ]] || die "HAProxy holds '${rt//$'\n'/, }' after the commit, expected '${want//$'\n'/, }': run this again"
fi
rm -f "${state_dir}/switch.intent"

if [[ ${current} == "${target}" ]]; then
  if [[ $(field "${disk}" live) == "${target}" ]]; then log "${target} is already live: nothing to do"; else
    log "${target} is already live; ${map} repaired (it said: ${disk:-nothing})"
  fi
else
  log "live traffic now goes to ${target} (was ${current:-unknown})"
  if ((drain > 0)); then
    log "drain: cookies naming ${current} are honoured until $(utc $((now + drain))) (${drain} s); HAProxy ends it by itself"
  else
    log "no drain: cookies naming ${current} go to ${target} now"
  fi
fi
