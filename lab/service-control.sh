#!/usr/bin/env bash
# The lab's systemctl: the operations scripts run "$SERVICE_CONTROL" <verb> <unit>..., and in the lab
# SERVICE_CONTROL is this file. It runs each unit's command as a plain process under the node's root.
#
#   service-control.sh start|stop|restart|reload|is-active|enable|daemon-reload [--quiet] [--now] <unit>...
#   service-control.sh pid <unit>        (lab only: prints the unit's pid, exit 3 when not running)
#   service-control.sh kill <unit> [SIG] (lab only: signals the unit's process group, default KILL)
#
# YQ_ROOT (exported by the calling script or by the lab CLI) is the node's root. Units:
#   haproxy          haproxy -W -f $ROOT/etc/haproxy/haproxy.cfg -p $ROOT/run/haproxy.pid -S $ROOT/run/haproxy-master.sock
#                    (reload: check the config, then SIGUSR2 to the master, as the packaged unit's ExecReload)
#   valkey-server    valkey-server $ROOT/etc/valkey/valkey.conf --daemonize no
#   valkey-server@I  valkey-server $ROOT/etc/valkey/valkey-I.conf --daemonize no (the packaged template)
#   valkey-sentinel  valkey-sentinel $ROOT/etc/valkey/sentinel.conf --daemonize no
#   prometheus, prometheus-alertmanager, prometheus-node-exporter, prometheus-redis-exporter
#                    /usr/bin/<unit> $ARGS, ARGS from $ROOT/etc/default/<unit> (the packaged units' way)
#   yquant-<svc>     ExecStart (with Environment, EnvironmentFile, WorkingDirectory) of the rendered
#                    unit $ROOT/etc/systemd/system/yquant-<svc>.service
# YQ_LAB_SKIP_UNITS="<unit> ...": start, restart and reload leave those units stopped (exit 0, one line
# on stderr); `lab up --no-monitoring` sets it for setup.sh. Every unit runs in its own session (setsid), pid in $ROOT/run/lab/<unit>.pid, output in
# $ROOT/var/log/lab/<unit>.log. Processes are only ever signalled by those pids (and their process
# groups), never by name.
set -euo pipefail

readonly STOP_WAIT_SECONDS=${YQ_LAB_STOP_WAIT_SECONDS:-10}
readonly START_WAIT_SECONDS=${YQ_LAB_START_WAIT_SECONDS:-10}

die() {
  echo "service-control: $*" >&2
  exit 1
}

usage() {
  echo "usage: service-control.sh start|stop|restart|reload|is-active|enable|daemon-reload|pid|kill [--quiet] [--now] <unit>..." >&2
  exit 2
}

ROOT=${YQ_ROOT:-}
[[ -n "${ROOT}" ]] || die "YQ_ROOT is not set: the lab shim only runs units under a lab node's root"
[[ -d "${ROOT}" ]] || die "YQ_ROOT ${ROOT} is not a directory"
ROOT=$(cd "${ROOT}" && pwd)
readonly ROOT
readonly PID_DIR="${ROOT}/run/lab"
readonly LOG_DIR="${ROOT}/var/log/lab"

pid_file() { printf '%s/%s.pid' "${PID_DIR}" "$1"; }

# The unit's pid when it is running (alive and not a zombie), else nothing and status 1.
running_pid() {
  local file pid state
  file=$(pid_file "$1")
  [[ -f "${file}" ]] || return 1
  pid=$(<"${file}")
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/${pid}/stat" ]] || return 1
  state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/${pid}/stat" 2>/dev/null || true)
  [[ -n "${state}" && "${state}" != "Z" && "${state}" != "X" ]] || return 1
  printf '%s\n' "${pid}"
}

# Direct children of a pid, one per line.
children_of() {
  cat "/proc/$1/task/"*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d' || true
}

# Runs "$@" in a new session, detached, recording the pid before exec so the pid file is exact.
launch() {
  local unit=$1 workdir=$2
  shift 2
  mkdir -p "${PID_DIR}" "${LOG_DIR}"
  local file log
  file=$(pid_file "${unit}")
  log="${LOG_DIR}/${unit}.log"
  rm -f "${file}"
  (
    cd "${workdir}"
    # shellcheck disable=SC2016 # $$ and "$@" expand in the child shell, on purpose.
    exec setsid bash -c 'printf "%s\n" "$$" >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "${file}" "$@" \
      </dev/null >>"${log}" 2>&1
  ) &
  local waited=0
  while [[ ! -s "${file}" ]] && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  [[ -s "${file}" ]] || die "${unit}: did not start (see ${log})"
}

# Units this call started: confirmed together at the end (one settle time for all, as systemd runs
# the jobs of one call side by side).
launched=()
# Fails with its log unless every launched unit is still alive after a short settle time.
confirm_started() {
  local unit log
  [[ ${#launched[@]} -gt 0 ]] || return 0
  sleep 0.2
  for unit in "${launched[@]}"; do
    log="${LOG_DIR}/${unit}.log"
    if ! running_pid "${unit}" >/dev/null; then
      tail -n 20 "${log}" >&2 || true
      die "${unit}: exited right after start (log: ${log})"
    fi
  done
  launched=()
}

# The starters of each kind of unit (haproxy, valkey, the app's units, the packaged ones).
# shellcheck source=lab/service-units.sh
. "$(dirname "${BASH_SOURCE[0]}")/service-units.sh"

# YQ_LAB_SKIP_UNITS (set by `lab up --no-monitoring` for setup.sh): units a start leaves stopped.
skipped() { [[ " ${YQ_LAB_SKIP_UNITS:-} " == *" $1 "* ]]; }

do_start() {
  local unit=$1
  if running_pid "${unit}" >/dev/null; then return 0; fi
  if skipped "${unit}"; then
    echo "service-control: ${unit}: not started (YQ_LAB_SKIP_UNITS)" >&2
    return 0
  fi
  case "${unit}" in
    haproxy) start_haproxy ;;
    valkey-server | valkey-server@* | valkey-sentinel) start_valkey "${unit}" ;;
    yquant-*) start_app "${unit}" ;;
    prometheus | prometheus-alertmanager | prometheus-node-exporter | prometheus-redis-exporter) start_packaged "${unit}" ;;
    *) die "unknown unit ${unit} (known: haproxy, valkey-server, valkey-server@<instance>, valkey-sentinel, yquant-<service>, prometheus[-alertmanager|-node-exporter|-redis-exporter])" ;;
  esac
  launched+=("${unit}")
}

# Signals a unit's whole process group (its session), falling back to the pid alone.
signal_unit() {
  local pid=$1 sig=$2
  kill "-${sig}" -- "-${pid}" 2>/dev/null || kill "-${sig}" "${pid}" 2>/dev/null || true
}

do_stop() {
  local unit=$1 pid waited=0
  if ! pid=$(running_pid "${unit}"); then
    rm -f "$(pid_file "${unit}")"
    return 0
  fi
  signal_unit "${pid}" CONT
  signal_unit "${pid}" TERM
  while running_pid "${unit}" >/dev/null && ((waited < STOP_WAIT_SECONDS * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if running_pid "${unit}" >/dev/null; then signal_unit "${pid}" KILL; fi
  # The group may outlive its leader (e.g. HAProxy workers); make sure none of it stays behind.
  kill -0 -- "-${pid}" 2>/dev/null && signal_unit "${pid}" KILL
  rm -f "$(pid_file "${unit}")"
}

do_reload() {
  local unit=$1 pid
  if ! pid=$(running_pid "${unit}"); then
    do_start "${unit}"
    return 0
  fi
  case "${unit}" in
    haproxy)
      haproxy -q -c -f "${ROOT}/etc/haproxy/haproxy.cfg" >/dev/null || die "haproxy: new config does not pass haproxy -c; not reloaded"
      local before after waited=0
      before=$(children_of "${pid}" | sort)
      kill -USR2 "${pid}"
      # Like Type=notify: return once the master has a worker it did not have before.
      while ((waited < START_WAIT_SECONDS * 20)); do
        after=$(children_of "${pid}" | sort)
        if [[ -n "${after}" ]] && [[ -n "$(comm -13 <(printf '%s\n' "${before}") <(printf '%s\n' "${after}"))" ]]; then
          return 0
        fi
        sleep 0.05
        waited=$((waited + 1))
      done
      die "haproxy: no new worker ${START_WAIT_SECONDS}s after SIGUSR2 (log: ${LOG_DIR}/haproxy.log)"
      ;;
    prometheus | prometheus-alertmanager)
      # The packaged units' ExecReload: they re-read their files on SIGHUP (a bad file is logged
      # and the old one kept; converge.sh checks the files before it writes them).
      kill -HUP "${pid}"
      ;;
    *)
      do_stop "${unit}"
      do_start "${unit}"
      ;;
  esac
}

[[ $# -ge 1 ]] || usage
verb=$1
shift
quiet=0
now=0
units=()
for arg in "$@"; do
  case "${arg}" in
    -q | --quiet) quiet=1 ;;
    --now) now=1 ;;
    --no-block | --no-pager) ;;
    -*) die "unknown option ${arg}" ;;
    *) units+=("${arg%.service}") ;;
  esac
done

case "${verb}" in
  daemon-reload) exit 0 ;;
  start | stop | restart | reload | try-restart | is-active | enable | disable | pid | kill) ;;
  *) usage ;;
esac
[[ ${#units[@]} -ge 1 ]] || usage

status=0
for unit in "${units[@]}"; do
  case "${verb}" in
    start) do_start "${unit}" ;;
    stop) do_stop "${unit}" ;;
    restart)
      do_stop "${unit}"
      do_start "${unit}"
      ;;
    try-restart)
      if running_pid "${unit}" >/dev/null; then
        do_stop "${unit}"
        do_start "${unit}"
      fi
      ;;
    reload) do_reload "${unit}" ;;
    enable) if ((now == 1)); then do_start "${unit}"; fi ;;
    disable) if ((now == 1)); then do_stop "${unit}"; fi ;;
    is-active)
      if running_pid "${unit}" >/dev/null; then
        ((quiet == 1)) || echo active
      else
        ((quiet == 1)) || echo inactive
        status=3
      fi
      ;;
    pid)
      if ! running_pid "${unit}"; then status=3; fi
      ;;
    kill)
      # In this verb the second word is the signal, not a unit.
      sig=${units[1]:-KILL}
      if pid=$(running_pid "${units[0]}"); then signal_unit "${pid}" "${sig}"; else status=3; fi
      exit "${status}"
      ;;
  esac
done
confirm_started
exit "${status}"
