# How converge.sh brings a changed Valkey or Sentinel file into force without a restart:
# plan_valkey and plan_sentinel compare it with the running process (CONFIG GET, SENTINEL MASTER)
# and with the last applied file, and fill valkey_sets ("<target> key value..."), sentinel_sets and
# refusals (declared by converge.sh) with what to set at runtime and what cannot change there.

# Settings of a config text: "key args...", comments and blank lines dropped.
# Values are compared without the double quotes Valkey and Sentinel add when they rewrite a file.
settings() { sed -e 's/^[[:space:]]*//' -e '/^#/d' -e '/^$/d' -e 's/"//g' "$1"; }
# Lines of a config text for one key (exact first word).
lines_for() { settings "$2" 2>/dev/null | awk -v k="$1" '$1 == k'; }

# vcli_to <target> ...: "local" is this node's own Valkey (VALKEY_PORT), "replica" the message
# store's never-promoted replica (MESSAGE_REPLICA_PORT, the message store's admin password).
vcli_to() {
  local port=${VALKEY_PORT} password=${LOCAL_ADMIN_PASSWORD}
  if [[ $1 == replica ]]; then port=${MESSAGE_REPLICA_PORT:-} password=${MESSAGE_ADMIN_PASSWORD}; fi
  shift
  REDISCLI_AUTH="${password}" valkey-cli --no-auth-warning --user "${VALKEY_ADMIN_USER}" -h "${NODE_LOOPBACK}" -p "${port}" "$@"
}
scli() { REDISCLI_AUTH="${SENTINEL_ADMIN_PASSWORD}" valkey-cli --no-auth-warning --user "${SENTINEL_ADMIN_USER}" -h "${NODE_LOOPBACK}" -p "${SENTINEL_PORT}" "$@"; }

# Valkey's CONFIG GET spelling of a size: 256mb -> 268435456 (Valkey: kb/mb/gb are powers of 1024).
bytes() {
  local v=${1,,}
  case ${v} in
    *gb) echo $((${v%gb} * 1024 * 1024 * 1024)) ;; *mb) echo $((${v%mb} * 1024 * 1024)) ;;
    *kb) echo $((${v%kb} * 1024)) ;; *g) echo $((${v%g} * 1000000000)) ;;
    *m) echo $((${v%m} * 1000000)) ;; *k) echo $((${v%k} * 1000)) ;; *) echo "${v}" ;;
  esac
}

# Settings Valkey cannot take at runtime here: compared with the last applied file; a change is refused.
VALKEY_FIXED=" daemonize pidfile logfile dir port bind requirepass masterauth masteruser include aclfile user rename-command "
VALKEY_OWNED=" replicaof slaveof " # Sentinel moves the master: the bootstrap line is not re-applied
SENTINEL_RUNTIME=" down-after-milliseconds failover-timeout parallel-syncs "

plan_valkey() { # $1 new file, $2 last applied (or the live file), $3 target (default local)
  local key rest current desired used target=${3:-local} name=valkey
  [[ ${target} == local ]] || name=${target}
  while read -r key rest; do
    if [[ ${VALKEY_OWNED} == *" ${key} "* ]]; then continue; fi
    if [[ ${VALKEY_FIXED} == *" ${key} "* ]]; then
      if [[ "$(lines_for "${key}" "$2")" != "$(lines_for "${key}" "$1")" ]]; then
        if [[ ${key} == requirepass || ${key} == masterauth ]]; then
          refusals+=("${name} ${key}: a password changes by the rotation procedure in docs/security.md, not by converge")
        else
          refusals+=("${name} ${key}: cannot change at runtime; it needs a restart of this Valkey (docs/runbooks/day2.md)")
        fi
      fi
      continue
    fi
    current=$(vcli_to "${target}" CONFIG GET "${key}" | sed -n 2p) || current=""
    desired=${rest}
    [[ ${key} == maxmemory ]] && desired=$(bytes "${rest}")
    [[ ${current} == "${desired}" ]] && continue
    if [[ ${key} == maxmemory && ${desired} != 0 ]]; then
      # noeviction: a maxmemory below what the store holds makes every write fail at once.
      used=$(vcli_to "${target}" INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p') || used=""
      if [[ ${used} =~ ^[0-9]+$ ]] && ((used >= desired)); then
        refusals+=("${name} maxmemory: ${desired} bytes is below the ${used} this Valkey holds (used_memory); every write would fail (noeviction): free data first, or keep the larger maxmemory")
        continue
      fi
    fi
    valkey_sets+=("${target} ${key} ${rest}")
  done < <(settings "$1")
}

plan_sentinel() { # $1 new file, $2 last applied (or the live file)
  local key opt rest info value wanted name
  info=$(scli SENTINEL MASTER "${SENTINEL_MASTER_NAME}" 2>/dev/null || true)
  field() { printf '%s\n' "${info}" | awk -v f="$1" 'NR % 2 == 1 && $0 == f { getline; print; exit }'; }
  while read -r key opt _master rest; do
    if [[ ${key} == "sentinel" && ${opt} == "monitor" ]]; then
      # Sentinel owns the master's address after any failover; only the quorum is a setting.
      wanted=${rest##* }
      value=$(field quorum)
      [[ -z ${info} || ${value} == "${wanted}" ]] || sentinel_sets+=("quorum ${wanted}")
      continue
    fi
    if [[ ${key} == "sentinel" && ${SENTINEL_RUNTIME} == *" ${opt} "* ]]; then
      value=$(field "${opt}")
      [[ -z ${info} || ${value} == "${rest}" ]] || sentinel_sets+=("${opt} ${rest}")
      continue
    fi
    # Everything else (addresses, passwords, paths): compared with the last applied file.
    name="${key} ${opt}"
    [[ ${key} == "sentinel" ]] || name=${key}
    if [[ "$(settings "$2" | grep -F -- "${name} " || true)" != "$(settings "$1" | grep -F -- "${name} " || true)" ]]; then
      if [[ ${name} == requirepass || ${name} == "sentinel auth-pass" || ${name} == "sentinel sentinel-pass" ]]; then
        refusals+=("sentinel ${name}: a password changes by the rotation procedure in docs/security.md, not by converge")
      else
        refusals+=("sentinel ${name}: cannot change at runtime; it needs a restart of this Sentinel (docs/runbooks/day2.md)")
      fi
    fi
  done < <(settings "$1")
}
