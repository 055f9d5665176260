#!/usr/bin/env bash
# promote-master.sh: moves the message Valkey master to <color>'s engine without losing an
# acknowledged write. Run on the gate, by the switch command (after switch-active.sh) and by hand.
#
#   usage: promote-master.sh <blue|green> [--pause-timeout MS]
#
# Steps (docs/valkey.md, "Planned move"):
#   1. refuse unless <color>'s Valkey is a replica of the current master with its link up;
#   2. CLIENT PAUSE <MS> WRITE on the old master: writes block there (reads go on), and if this script
#      dies the pause still ends by itself after MS (default 15000, longer than Sentinel takes to
#      demote a stale master on its own, so a killed run cannot let the old master take writes again;
#      renewed every second until step 5);
#   3. wait until the replica's offset reaches the old master's offset (nothing acknowledged is missing);
#   4. SENTINEL FAILOVER, then wait until the target answers ROLE master and Sentinel names it (at most
#      Sentinel's failover-timeout);
#   5. REPLICAOF the target on the old master (and CONFIG REWRITE), so that its paused writers get
#      READONLY instead of landing on a master nobody reads;
#   6. CLIENT UNPAUSE on the old master. Prints the write pause in ms.
# Idempotent: when Sentinel already names <color>, it only makes sure the other engine is a replica of
# it and that neither engine is paused (the re-run after an interrupted move). A failure before step 4
# unpauses and changes nothing; exit 1 with a message in every failure.
set -euo pipefail

usage() { echo "usage: promote-master.sh <blue|green> [--pause-timeout MS]" >&2; }
fail_usage() {
  echo "promote-master.sh: $1" >&2
  usage
  exit 2
}

target=""
pause_ms=15000
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --pause-timeout)
      [[ $# -ge 2 ]] || fail_usage "--pause-timeout needs a number of milliseconds"
      # At least 10 s: the pause is a lease renewed every second, and two renewals can be 7 s apart
      # (1 s, one check and the renewal itself, each call bounded to 3 s), so a shorter one could lapse.
      if [[ ! $2 =~ ^[0-9]{4,5}$ ]] || ((10#$2 < 10000 || 10#$2 > 60000)); then
        fail_usage "invalid --pause-timeout '$2': milliseconds from 10000 to 60000"
      fi
      pause_ms=$((10#$2))
      shift
      ;;
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

# shellcheck source=cloud-init/scripts/lib/node-root.sh
source "${BASH_SOURCE[0]%/*}/lib/node-root.sh"
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env"
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/valkey-admin.env"

log() { printf 'promote-master.sh: %s\n' "$*"; }
die() {
  printf 'promote-master.sh: %s\n' "$*" >&2
  exit 1
}

if [[ ${target} == blue ]]; then
  target_ip=${BLUE_IP} other=green other_ip=${GREEN_IP}
else
  target_ip=${GREEN_IP} other=blue other_ip=${BLUE_IP}
fi

# Passwords go through REDISCLI_AUTH, never on a command line. Every call is bounded (-t, timeout).
vk() {
  local host=$1
  shift
  REDISCLI_AUTH=${MESSAGE_ADMIN_PASSWORD} timeout 3 valkey-cli --no-auth-warning -t 2 --user "${VALKEY_ADMIN_USER}" \
    -h "${host}" -p "${VALKEY_PORT}" "$@"
}
sentinel() {
  REDISCLI_AUTH=${SENTINEL_ADMIN_PASSWORD} timeout 3 valkey-cli --no-auth-warning -t 2 --user "${SENTINEL_ADMIN_USER}" \
    -h "${NODE_LOOPBACK}" -p "${SENTINEL_PORT}" "$@"
}
master_ip() { sentinel SENTINEL GET-MASTER-ADDR-BY-NAME "${SENTINEL_MASTER_NAME}" 2>/dev/null | head -n 1; }
# A field of INFO replication (e.g. role, master_link_status, master_repl_offset), or nothing.
info() { { vk "$1" INFO replication 2>/dev/null || true; } | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
now_ms() { date +%s%3N; }

exec 8>"${YQ_ROOT}/var/lib/yquant/promote.lock"
flock -w 30 8 || die "another promote-master.sh holds ${YQ_ROOT}/var/lib/yquant/promote.lock"

# Makes <ip> a replica of the target unless it is one already (no-op when it does not answer).
demote() {
  local ip=$1 role
  role=$(info "${ip}" role)
  if [[ ${role} == master ]]; then
    vk "${ip}" REPLICAOF "${target_ip}" "${VALKEY_PORT}" >/dev/null
    vk "${ip}" CONFIG REWRITE >/dev/null 2>&1 || log "CONFIG REWRITE on ${ip} failed (replicaof is not saved)"
    log "${ip} is now a replica of ${target_ip}"
  fi
}

current=$(master_ip) || true
[[ -n ${current} ]] || die "the local Sentinel (${NODE_LOOPBACK}:${SENTINEL_PORT}) does not name a master for ${SENTINEL_MASTER_NAME}"

if [[ ${current} == "${target_ip}" ]]; then
  [[ $(info "${target_ip}" role) == master ]] || die "Sentinel names ${target_ip} but it does not answer ROLE master yet; run again shortly"
  demote "${other_ip}"
  vk "${other_ip}" CLIENT UNPAUSE >/dev/null 2>&1 || true
  vk "${target_ip}" CLIENT UNPAUSE >/dev/null 2>&1 || true
  log "the message master is already ${target} (${target_ip}); nothing is paused"
  exit 0
fi
[[ ${current} == "${other_ip}" ]] || die "Sentinel names ${current} as master, which is neither engine"

# Test hook (tests/lab, scenario 11): SIGKILL this script right after the named step, to show that a
# re-run converges. Unset on the nodes.
step_done() {
  log "step: $1"
  if [[ ${YQ_PROMOTE_KILL_AT:-} == "$1" ]]; then kill -KILL $$; fi
}

stage=start
# The pause is a lease (CLIENT PAUSE only ever extends one): renewed once a second from the pause
# to the demotion, at each step that waits, so the old master takes no write before step 5 however
# slow the machine; a killed run's pause still ends by itself.
renewed_at=0
hold_writes() {
  local now
  now=$(now_ms)
  if ((now - renewed_at >= 1000)); then
    vk "${other_ip}" CLIENT PAUSE "${pause_ms}" WRITE >/dev/null 2>&1 || true
    renewed_at=${now}
  fi
}
# shellcheck disable=SC2317 # invoked by the trap
on_exit() {
  local status=$?
  case ${stage} in
    paused) vk "${other_ip}" CLIENT UNPAUSE >/dev/null 2>&1 || true ;;
    failover)
      # Sentinel may already have promoted the target: then the old master must not take writes again.
      if [[ $(info "${target_ip}" role) == master ]]; then demote "${other_ip}" || true; fi
      vk "${other_ip}" CLIENT UNPAUSE >/dev/null 2>&1 || true
      ;;
  esac
  exit "${status}"
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP
paused_at=$(now_ms)

if [[ $(info "${target_ip}" role) == master ]]; then
  # A failover to the target is under way (an interrupted run): hold writes and finish it.
  log "${target} already answers ROLE master while Sentinel names ${other}: finishing that failover"
  vk "${other_ip}" CLIENT PAUSE "${pause_ms}" WRITE >/dev/null 2>&1 || true
  stage=failover
else
  # 1. Preconditions: nothing has changed yet when one fails.
  [[ $(info "${target_ip}" role) == slave ]] || die "${target} (${target_ip}) is not a replica; nothing changed"
  [[ $(info "${target_ip}" master_host) == "${other_ip}" ]] || die "${target} does not replicate from ${other_ip}; nothing changed"
  [[ $(info "${target_ip}" master_link_status) == up ]] || die "${target}'s replication link is down; nothing changed"

  # 2. Pause writes on the old master.
  log "pausing writes on ${other} (${other_ip}) for at most ${pause_ms} ms"
  [[ $(vk "${other_ip}" CLIENT PAUSE "${pause_ms}" WRITE) == OK ]] || die "CLIENT PAUSE on ${other_ip} failed; nothing changed"
  renewed_at=$(now_ms)
  stage=paused
  step_done paused

  # 3. Wait until the replica has everything the old master acknowledged.
  offset=$(info "${other_ip}" master_repl_offset)
  [[ ${offset} =~ ^[0-9]+$ ]] || die "no master_repl_offset from ${other_ip}; unpaused, nothing changed"
  deadline=$((paused_at + pause_ms / 3))
  until hold_writes && replica=$(info "${target_ip}" master_repl_offset) && [[ ${replica} =~ ^[0-9]+$ ]] && ((replica >= offset)); do
    (($(now_ms) < deadline)) || die "${target} did not reach offset ${offset} (at ${replica:-?}) in time; unpaused, nothing changed"
    sleep 0.02
  done
  log "${target} has offset ${replica} >= ${offset} after $(($(now_ms) - paused_at)) ms"
  step_done caught-up

  # 4. Fail over through Sentinel (INPROG: an interrupted run's failover is still going on).
  hold_writes
  reply=$(sentinel SENTINEL FAILOVER "${SENTINEL_MASTER_NAME}" 2>&1) || true
  [[ ${reply} == OK || ${reply} == INPROG* ]] || die "SENTINEL FAILOVER refused (${reply}); unpaused, nothing changed"
  stage=failover
  step_done failover-sent
fi

# The wait lasts as long as Sentinel pursues the failover (its failover-timeout), however slow the
# machine, renewing the pause before each check (each may block up to 3 s).
asked_at=$(now_ms)
promoted() {
  hold_writes
  [[ $(info "${target_ip}" role) == master ]] || return 1
  hold_writes
  [[ $(master_ip) == "${target_ip}" ]]
}
until promoted; do
  (($(now_ms) < asked_at + SENTINEL_FAILOVER_TIMEOUT_MS)) || die "${target} was not promoted within Sentinel's failover-timeout (${SENTINEL_FAILOVER_TIMEOUT_MS} ms); see docs/runbooks/valkey-failure.md"
  sleep 0.02
done
step_done promoted

# 5 and 6. The old master follows the new one, then its paused writers go on (and get READONLY).
demote "${other_ip}"
vk "${other_ip}" CLIENT UNPAUSE >/dev/null
stage=finished
log "the message master is now ${target} (${target_ip}); writes were paused for $(($(now_ms) - paused_at)) ms"
