#!/usr/bin/env bash
# deploy.sh: builds a release on this engine and puts it in force.
#
#   usage: deploy.sh [--force] <release>
#
# <release> is "placeholder" (the built-in app), or, when APP_REPOSITORY is set, a git ref (tag,
# branch or commit) that is fetched and built with APP_BUILD_COMMAND. Without APP_REPOSITORY any
# release name deploys the placeholder app under that name. The release is built into
# opt/yquant/releases/<release>, the `current` symlink is flipped atomically, the app units are
# restarted, and /health must report the release within YQ_DEPLOY_TIMEOUT seconds (default 60).
# On failure the previous release is put back and restarted, and the exit status is non-zero.
#
# A release that is already in force (recorded in var/lib/yquant/release, `current` points at it,
# and /health reports it) is left alone: nothing is built or restarted and the exit status is 0. So
# re-running the same command (a changed SSH connection or command text makes Pulumi run it again)
# never restarts a running app. --force rebuilds and restarts anyway (a moving ref such as a branch).
set -euo pipefail

usage() { echo "usage: deploy.sh [--force] <release>    (placeholder, or a git ref of APP_REPOSITORY)" >&2; }
if [[ $# -eq 1 && ($1 == "-h" || $1 == "--help") ]]; then
  usage
  exit 0
fi
force=false
if [[ $# -ge 1 && $1 == "--force" ]]; then
  force=true
  shift
fi
if [[ $# -ne 1 ]]; then
  echo "deploy.sh: expected exactly one argument, the release; got $#" >&2
  usage
  exit 2
fi
release=$1
if [[ ! ${release} =~ ^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$ || ${release} == *..* ]]; then
  echo "deploy.sh: invalid release '${release}': use letters, digits, '.', '_', '-' or '/' (no '..')" >&2
  usage
  exit 2
fi

# shellcheck source=cloud-init/scripts/lib/node-root.sh
source "${BASH_SOURCE[0]%/*}/lib/node-root.sh"
export YQ_ROOT
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env"

if [[ ${NODE_ROLE} != "engine" ]]; then
  echo "deploy.sh: runs on an engine (blue or green); this node is ${NODE_NAME}" >&2
  exit 2
fi

log() { printf 'deploy.sh[%s]: %s\n' "${NODE_NAME}" "$*"; }
# Services must not inherit the lock (fd 9).
svc() { "${SERVICE_CONTROL}" "$@" 9>&-; }

healthy() {
  local expected=$1 body service
  # The app binds the private address only (HAProxy reaches it there), not the loopback.
  body=$(curl -fsS --max-time 2 "http://${NODE_IP}:${APP_PORT}/health" 2>/dev/null) || return 1
  # The /health contract (docs/architecture.md): a JSON object; status "ok", color this engine,
  # release the one expected. Parsed with jq, so compact and pretty JSON are alike.
  [[ $(printf '%s' "${body}" | jq -r 'if type == "object" then "\(.status) \(.color) \(.release)" else empty end' 2>/dev/null) == "ok ${NODE_NAME} ${expected}" ]] || return 1
  for service in ${APP_SERVICES}; do
    svc is-active "yquant-${service}" >/dev/null 2>&1 || return 1
  done
}

base="${YQ_ROOT}/opt/yquant"
releases="${base}/releases"
current="${base}/current"
state_dir="${YQ_ROOT}/var/lib/yquant"
timeout=${YQ_DEPLOY_TIMEOUT:-60}
dir_name=${release//\//_}
target="${releases}/${dir_name}"
mkdir -p "${releases}" "${state_dir}"

exec 9>"${state_dir}/deploy.lock"
if ! flock -w 300 9; then
  echo "deploy.sh: another deploy holds ${state_dir}/deploy.lock" >&2
  exit 1
fi

if [[ ${force} == false && -f "${state_dir}/release" && $(<"${state_dir}/release") == "${release}" &&
  -L ${current} && $(readlink "${current}") == "releases/${dir_name}" ]] && healthy "${release}"; then
  log "release ${release} already in force and healthy: nothing to do (no rebuild, no restart)"
  exit 0
fi

previous=""
if [[ -L ${current} ]]; then
  previous=$(readlink "${current}")
fi

work=$(mktemp -d "${releases}/.build-${dir_name}.XXXXXX")
# mktemp makes the directory 0700; the app runs as the yquant user and must read it.
chmod 755 "${work}"
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() { rm -rf "${work}" "${current}.new"; }
trap cleanup EXIT

if [[ ${release} == "placeholder" || -z ${APP_REPOSITORY} ]]; then
  cp "${base}/placeholder/app.py" "${work}/app.py"
  chmod 755 "${work}/app.py"
  log "building ${release}: built-in placeholder app"
else
  log "building ${release}: fetching ${APP_REPOSITORY}"
  git clone --quiet "${APP_REPOSITORY}" "${work}/src"
  git -C "${work}/src" checkout --quiet --detach "${release}"
  shopt -s dotglob
  mv "${work}/src"/* "${work}/"
  shopt -u dotglob
  rmdir "${work}/src"
  if [[ -n ${APP_BUILD_COMMAND} ]]; then
    (cd "${work}" && bash -c "${APP_BUILD_COMMAND}")
  fi
fi
echo "${release}" >"${work}/RELEASE"

if [[ -e ${target} ]]; then
  mv "${target}" "${work}.old"
  mv "${work}" "${target}"
  rm -rf "${work}.old"
else
  mv "${work}" "${target}"
fi

flip() {
  ln -sfn "$1" "${current}.new"
  mv -Tf "${current}.new" "${current}"
}

restart_apps() {
  for service in ${APP_SERVICES}; do
    svc restart "yquant-${service}"
  done
}

wait_healthy() {
  local expected=$1 deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    healthy "${expected}" && return 0
    sleep 0.5
  done
  return 1
}

flip "releases/${dir_name}"
restart_apps
if wait_healthy "${release}"; then
  echo "${release}" >"${state_dir}/release.tmp"
  mv -f "${state_dir}/release.tmp" "${state_dir}/release"
  log "release ${release} in force and healthy"
  exit 0
fi

echo "deploy.sh: release ${release} did not report healthy within ${timeout}s" >&2
if [[ -n ${previous} && ${previous} != "releases/${dir_name}" ]]; then
  flip "${previous}"
  restart_apps
  previous_release=$(cat "${base}/${previous}/RELEASE" 2>/dev/null || echo "${previous##*/}")
  if wait_healthy "${previous_release}"; then
    echo "deploy.sh: rolled back to ${previous_release}" >&2
  else
    echo "deploy.sh: rolled back to ${previous_release}, which is not healthy either" >&2
  fi
fi
exit 1
