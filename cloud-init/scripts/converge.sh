#!/usr/bin/env bash
# converge.sh: brings this node's rendered files (a bundle from cloud-init/converge.ts, on stdin)
# into force in place, without replacing the VM, and reloads only what changed.
#
#   usage: converge.sh [--check] < bundle
#
# 1. Reads the whole bundle and decides, file by file, what differs. Nothing differs: exit 0, and
#    nothing is written, reloaded or restarted.
# 2. Refuses (exit 1, nothing written) a Valkey or Sentinel setting that cannot change at runtime
#    (bind, port, paths, passwords: docs/security.md has the rotation procedure), naming it.
# 3. Writes the files that differ (atomic rename, mode, owner), then per action: host firewall rules
#    added before the old ones are deleted; systemd daemon-reload for units; Valkey CONFIG SET then
#    CONFIG REWRITE; SENTINEL SET; HAProxy: haproxy.cfg is checked with `haproxy -c` before it is
#    written, then reloaded hitlessly (under the switch's lock, server state kept).
# Host firewall rules are compared with the rules in force (iptables -S), not with the old file, so
# a removed admin CIDR loses its rules even when the file was already overwritten. A run killed at
# any step is finished by the next: the reloads it owed are recorded (converge.pending) before any
# file is written. YQ_CONVERGE_STOP_AT=<step> stops a run at a step (tests).
# --check prints what would change and exits 0 (2 when something would be refused).
set -euo pipefail

usage() { echo "usage: converge.sh [--check] < bundle    (the bundle from cloud-init/converge.ts)" >&2; }
check_only=false
case ${1:-} in
  -h | --help)
    usage
    exit 0
    ;;
  --check) check_only=true ;;
  "") ;;
  *)
    echo "converge.sh: unexpected argument '$1'" >&2
    usage
    exit 2
    ;;
esac

# shellcheck source=cloud-init/scripts/lib/node-env.sh
source "${BASH_SOURCE[0]%/*}/lib/node-env.sh"

log() { printf 'converge.sh[%s]: %s\n' "${NODE_NAME}" "$*"; }
svc() { "${SERVICE_CONTROL}" "$@" 9>&- 8>&-; }
state_dir="${YQ_ROOT}/var/lib/yquant"
applied_dir="${state_dir}/converge"
mkdir -p "${applied_dir}"

exec 9>"${state_dir}/converge.lock"
if ! flock -w 300 9; then
  echo "converge.sh: another converge holds ${state_dir}/converge.lock" >&2
  exit 1
fi

work=$(mktemp -d "${state_dir}/.converge.XXXXXX")
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() { rm -rf "${work}"; }
trap cleanup EXIT

# --- 1. read the bundle -------------------------------------------------------------------------
read -r header || header=""
if [[ ${header} != "yquant-converge 1" ]]; then
  echo "converge.sh: stdin is not a converge bundle (first line '${header:0:40}', expected 'yquant-converge 1')" >&2
  exit 2
fi
actions=() modes=() owners=() paths=()
n=0 ended=false
while read -r kind action mode owner path; do
  if [[ ${kind} == "end" ]]; then
    ended=true
    break
  fi
  if [[ ${kind} != "file" || ! ${mode} =~ ^0[0-7]{3}$ || ! ${path} =~ ^/[A-Za-z0-9._/@-]+$ || ${path} == *..* ]]; then
    echo "converge.sh: malformed bundle entry '${kind} ${action} ${mode} ${owner} ${path}'" >&2
    exit 2
  fi
  case ${action} in write | haproxy | valkey | replica | sentinel | firewall | unit | ssh-keys | prometheus | alertmanager) ;; *)
    echo "converge.sh: unknown action '${action}' for ${path}" >&2
    exit 2
    ;;
  esac
  read -r data || data=""
  printf '%s' "${data}" | base64 -d >"${work}/${n}" || {
    echo "converge.sh: bad base64 content for ${path}" >&2
    exit 2
  }
  actions+=("${action}") modes+=("${mode}") owners+=("${owner}") paths+=("${path}")
  n=$((n + 1))
done
[[ ${ended} == true ]] || {
  echo "converge.sh: the bundle has no 'end' line (truncated?)" >&2
  exit 2
}

# shellcheck source=cloud-init/scripts/lib/converge-firewall.sh
source "${BASH_SOURCE[0]%/*}/lib/converge-firewall.sh"
# YQ_CONVERGE_STOP_AT=<step>: stop here (SIGSTOP) so a test can kill the run at that step.
step() { [[ ${YQ_CONVERGE_STOP_AT:-} != "$1" ]] || kill -STOP $$; }

applied_copy() { printf '%s/%s' "${applied_dir}" "$(printf '%s' "$1" | tr '/' '_')"; }
same_file() { [[ -f $2 ]] && cmp -s "$1" "$2"; }
mode_of() { stat -c '%a' "$1" 2>/dev/null | sed 's/^/0/; s/^00/0/'; }

# shellcheck source=cloud-init/scripts/lib/converge-plan.sh
source "${BASH_SOURCE[0]%/*}/lib/converge-plan.sh"

refusals=()
valkey_sets=()   # "<local|replica> key value..." to CONFIG SET
sentinel_sets=() # "option value" to SENTINEL SET <master>

changed=()
for ((i = 0; i < n; i++)); do
  path=${paths[i]} new="${work}/${i}"
  case ${actions[i]} in
    valkey | replica | sentinel)
      reference=$(applied_copy "${path}")
      if same_file "${new}" "${reference}"; then continue; fi
      [[ -f ${reference} ]] || reference=${path}
      before=$((${#valkey_sets[@]} + ${#sentinel_sets[@]} + ${#refusals[@]}))
      case ${actions[i]} in
        valkey) plan_valkey "${new}" "${reference}" ;;
        replica) plan_valkey "${new}" "${reference}" replica ;;
        *) plan_sentinel "${new}" "${reference}" ;;
      esac
      # Already in force at runtime: only the record of the applied file is missing or stale.
      changed+=("${i}")
      ((${#valkey_sets[@]} + ${#sentinel_sets[@]} + ${#refusals[@]} > before)) || log "${path}: in force at runtime; recording it"
      ;;
    firewall)
      # Compared with the running rules, not only the file: a run killed after writing the file, or
      # a rules file already overwritten, still leaves the rules to converge here.
      if same_file "${new}" "${path}" && [[ $(mode_of "${path}") == "${modes[i]}" ]] &&
        { [[ ${HOST_FIREWALL} != "on" ]] || [[ "$(fw_wanted "${new}")" == "$(fw_live)" ]]; }; then continue; fi
      changed+=("${i}")
      ;;
    *)
      if same_file "${new}" "${path}" && [[ $(mode_of "${path}") == "${modes[i]}" ]]; then continue; fi
      changed+=("${i}")
      ;;
  esac
done

# Monitoring files are checked by their own tools before anything is written.
for i in "${changed[@]}"; do
  case ${actions[i]} in
    prometheus)
      if [[ ${paths[i]} == */prometheus.yml ]]; then
        check=$(promtool check config --syntax-only "${work}/${i}" 2>&1) || refusals+=("${paths[i]}: promtool check config: ${check//$'\n'/ }")
      else
        check=$(promtool check rules "${work}/${i}" 2>&1) || refusals+=("${paths[i]}: promtool check rules: ${check//$'\n'/ }")
      fi
      ;;
    alertmanager)
      check=$(amtool check-config "${work}/${i}" 2>&1) || refusals+=("${paths[i]}: amtool check-config: ${check//$'\n'/ }")
      ;;
  esac
done

if ((${#refusals[@]} > 0)); then
  for r in "${refusals[@]}"; do echo "converge.sh: refused: ${r}" >&2; done
  echo "converge.sh: nothing was changed on ${NODE_NAME}" >&2
  [[ ${check_only} == true ]] && exit 2
  exit 1
fi
# Reloads an interrupted run wrote files for but did not finish (the files are in place by now, so
# they no longer differ): recorded before anything is written, removed once done.
pending_file="${state_dir}/converge.pending"
pending=$(cat "${pending_file}" 2>/dev/null || true)
if ((${#changed[@]} == 0)) && [[ -z ${pending} ]]; then
  log "every file is in force: nothing to do"
  exit 0
fi
for i in "${changed[@]}"; do log "differs: ${paths[i]} (${actions[i]})"; done
for s in "${valkey_sets[@]}"; do
  target=${s%% *} s=${s#* }
  log "${target/#local/valkey}: CONFIG SET ${s%% *} ..."
done
for s in "${sentinel_sets[@]}"; do log "sentinel: SENTINEL SET ${SENTINEL_MASTER_NAME} ${s%% *} ${s#* }"; done
for p in ${pending}; do log "pending from an interrupted run: ${p}"; done
[[ ${check_only} == true ]] && exit 0
step planned
for i in "${changed[@]}"; do
  case ${actions[i]} in
    haproxy) pending+=" haproxy" ;;
    unit) pending+=" daemon-reload" ;;
    prometheus | alertmanager) pending+=" ${actions[i]}" ;;
  esac
done
# shellcheck disable=SC2086 # one word per follow-up
pending=$(printf '%s\n' ${pending} | sed '/^$/d' | sort -u | paste -sd ' ')
printf '%s\n' "${pending}" >"${pending_file}.tmp" && mv -f "${pending_file}.tmp" "${pending_file}"

# --- 3. apply -----------------------------------------------------------------------------------
put() { # $1 index: atomic write with mode and owner
  local i=$1 path=${paths[$1]} tmp
  mkdir -p "$(dirname -- "${path}")"
  tmp="${path}.converge.$$"
  cp "${work}/${i}" "${tmp}"
  chmod "${modes[i]}" "${tmp}"
  if [[ ${PRODUCTION} == "true" ]]; then chown "${owners[i]}" "${tmp}"; fi
  mv -f "${tmp}" "${path}"
}

reload_haproxy=false daemon_reload=false
[[ " ${pending} " == *" haproxy "* ]] && reload_haproxy=true
[[ " ${pending} " == *" daemon-reload "* ]] && daemon_reload=true
for i in "${changed[@]}"; do
  case ${actions[i]} in
    write | unit | ssh-keys | prometheus | alertmanager)
      put "${i}"
      ;;
    haproxy)
      if [[ ${paths[i]} == */haproxy.cfg ]] && ! check=$(haproxy -c -q -f "${work}/${i}" 2>&1); then
        echo "converge.sh: haproxy -c rejected the new ${paths[i]}; HAProxy keeps its configuration: ${check}" >&2
        exit 1
      fi
      put "${i}"
      ;;
    firewall)
      put "${i}"
      step firewall-file
      if [[ ${HOST_FIREWALL} == "on" ]]; then
        apply_firewall_rules "${paths[i]}"
      else
        log "firewall: HOST_FIREWALL=${HOST_FIREWALL}, rules file written, not applied"
      fi
      ;;
    valkey | replica | sentinel) ;; # below, once every file is written
  esac
done
step files
if [[ ${daemon_reload} == true ]]; then
  svc daemon-reload
  log "systemd units reloaded; the app takes them at its next deploy or restart (no restart here)"
fi
rewrite=""
for s in "${valkey_sets[@]}"; do
  target=${s%% *} s=${s#* }
  # shellcheck disable=SC2086 # a setting's arguments are separate words
  out=$(vcli_to "${target}" CONFIG SET ${s} 2>&1) || true
  if [[ ${out} != OK ]]; then
    echo "converge.sh: ${target/#local/valkey} CONFIG SET ${s%% *} failed: ${out}" >&2
    exit 1
  fi
  [[ " ${rewrite} " == *" ${target} "* ]] || rewrite+=" ${target}"
done
step valkey-set
for target in ${rewrite}; do
  out=$(vcli_to "${target}" CONFIG REWRITE)
  [[ ${out} == OK ]] || log "${target/#local/valkey}: CONFIG REWRITE answered '${out}' (the settings are in force, not yet in the file)"
done
for s in "${sentinel_sets[@]}"; do
  # shellcheck disable=SC2086 # option and value are separate words
  out=$(scli SENTINEL SET "${SENTINEL_MASTER_NAME}" ${s} 2>&1) || true
  if [[ ${out} != OK ]]; then
    echo "converge.sh: SENTINEL SET ${SENTINEL_MASTER_NAME} ${s} failed: ${out}" >&2
    exit 1
  fi
done
step runtime-set
for i in "${changed[@]}"; do
  case ${actions[i]} in valkey | replica | sentinel) cp "${work}/${i}" "$(applied_copy "${paths[i]}")" ;; esac
done
step recorded

# Prometheus and Alertmanager re-read their files on SIGHUP (the packaged units' ExecReload); each
# only when one of its own files changed.
for unit in prometheus alertmanager; do
  [[ " ${pending} " == *" ${unit} "* ]] || continue
  service=${unit/#alertmanager/prometheus-alertmanager}
  if ! svc reload "${service}"; then
    echo "converge.sh: reloading ${service} failed; it keeps its configuration (run converge again)" >&2
    exit 1
  fi
  log "${service}: reloaded (its files changed)"
done
step monitoring-reloaded

if [[ ${reload_haproxy} == true ]]; then
  exec 8>"${state_dir}/switch.lock"
  flock -w 120 8 || {
    echo "converge.sh: a switch holds ${state_dir}/switch.lock for over 120 s; haproxy.cfg is written, HAProxy was not reloaded (run converge again)" >&2
    exit 1
  }
  socket="${YQ_ROOT}/run/haproxy/admin.sock"
  server_state="${YQ_ROOT}/var/lib/haproxy/server-state"
  if command -v socat >/dev/null 2>&1 &&
    printf 'show servers state\n' | timeout 5 socat -t 2 stdio "unix-connect:${socket}" >"${server_state}.tmp" 2>/dev/null &&
    [[ -s ${server_state}.tmp ]]; then
    mv -f "${server_state}.tmp" "${server_state}"
  else
    rm -f "${server_state}.tmp"
  fi
  if ! svc reload haproxy; then
    echo "converge.sh: reloading HAProxy failed; the running HAProxy keeps its configuration" >&2
    exit 1
  fi
  log "haproxy: haproxy.cfg in force, reloaded (hitless; the live color stays as the switch map says)"
fi
rm -f "${pending_file}"
log "${#changed[@]} file(s) converged"
