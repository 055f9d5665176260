# shellcheck shell=bash
# How the lab's service-control.sh starts each kind of unit, as its packaged or rendered systemd unit
# would: sourced by service-control.sh, whose ROOT, die and launch these use.

# The rendered unit file of a yquant-<service> unit.
unit_file() { printf '%s/etc/systemd/system/%s.service' "${ROOT}" "$1"; }

start_haproxy() {
  local cfg="${ROOT}/etc/haproxy/haproxy.cfg"
  [[ -f "${cfg}" ]] || die "haproxy: ${cfg} is missing"
  mkdir -p "${ROOT}/run/haproxy" "${ROOT}/var/lib/haproxy"
  haproxy -q -c -f "${cfg}" >/dev/null || die "haproxy: ${cfg} does not pass haproxy -c"
  launch haproxy "${ROOT}" haproxy -W -f "${cfg}" -p "${ROOT}/run/haproxy.pid" -S "${ROOT}/run/haproxy-master.sock"
}

start_valkey() {
  local unit=$1 conf program=valkey-server run_dir="${ROOT}/run/valkey"
  case ${unit} in
    valkey-server) conf="${ROOT}/etc/valkey/valkey.conf" ;;
    # The packaged template unit: valkey-server /etc/valkey/valkey-%i.conf, RuntimeDirectory=valkey-%i.
    valkey-server@*)
      conf="${ROOT}/etc/valkey/valkey-${unit#valkey-server@}.conf"
      run_dir="${ROOT}/run/valkey-${unit#valkey-server@}"
      ;;
    *) conf="${ROOT}/etc/valkey/sentinel.conf" program=valkey-sentinel ;;
  esac
  [[ -f "${conf}" ]] || die "${unit}: ${conf} is missing"
  mkdir -p "${ROOT}/var/lib/valkey" "${ROOT}/var/log/valkey" "${run_dir}"
  # As systemd would: the UMask= of the unit's rendered drop-ins (rewritten config files stay 0640).
  local mask
  mask=$({ cat "${ROOT}/etc/systemd/system/${unit}.service.d/"*.conf 2>/dev/null || true; } | sed -n 's/^UMask=//p' | tail -n 1)
  (
    [[ -z ${mask} ]] || umask "${mask}"
    launch "${unit}" "${ROOT}/var/lib/valkey" "${program}" "${conf}" --daemonize no
  )
}

# Reads Key=value lines of the [Service] section of a unit file (the last ExecStart wins, as systemd's
# reset-by-empty-assignment does; Environment and EnvironmentFile accumulate).
unit_values() {
  local file=$1 key=$2
  awk -v key="${key}" '
    /^\[/ { section = $0; next }
    section == "[Service]" && index($0, key "=") == 1 { print substr($0, length(key) + 2) }
  ' "${file}"
}

start_app() {
  local unit=$1 file
  file=$(unit_file "${unit}")
  [[ -f "${file}" ]] || die "${unit}: unit file ${file} is missing"
  local exec_start workdir
  exec_start=$(unit_values "${file}" ExecStart | sed '/^$/d' | tail -n 1)
  [[ -n "${exec_start}" ]] || die "${unit}: no ExecStart in ${file}"
  # systemd prefixes (-, @, +, !, :) do not change what runs here.
  exec_start=$(sed -E 's/^[-@+!:]+//' <<<"${exec_start}")
  workdir=$(unit_values "${file}" WorkingDirectory | tail -n 1)
  workdir=${workdir#-}
  [[ -n "${workdir}" && -d "${workdir}" ]] || workdir="${ROOT}"
  local env_setup="set -a" line optional
  while IFS= read -r line; do
    [[ -n "${line}" ]] || continue
    optional=0
    if [[ "${line}" == -* ]]; then optional=1 && line=${line#-}; fi
    if [[ -f "${line}" ]]; then
      env_setup+="; . $(printf '%q' "${line}")"
    elif ((optional == 0)); then
      die "${unit}: EnvironmentFile ${line} is missing"
    fi
  done < <(unit_values "${file}" EnvironmentFile)
  while IFS= read -r line; do
    [[ -n "${line}" ]] && env_setup+="; export ${line}"
  done < <(unit_values "${file}" Environment)
  env_setup+="; set +a"
  launch "${unit}" "${workdir}" bash -c "${env_setup}; exec ${exec_start}"
}

# A packaged unit whose ExecStart is `/usr/bin/<unit> $ARGS` with EnvironmentFile=/etc/default/<unit>
# (Debian's and Ubuntu's prometheus, prometheus-alertmanager and the exporters): the same here.
start_packaged() {
  local unit=$1 defaults="${ROOT}/etc/default/$1"
  [[ -f ${defaults} ]] || die "${unit}: ${defaults} is missing"
  command -v "${unit}" >/dev/null || die "${unit}: program not installed"
  mkdir -p "${ROOT}/var/lib/prometheus"
  # shellcheck disable=SC2016 # $ARGS expands in the unit's shell, word-split as systemd does.
  launch "${unit}" "${ROOT}" bash -c 'set -a && . "$0" && set +a && exec "$1" $ARGS' "${defaults}" "${unit}"
}
