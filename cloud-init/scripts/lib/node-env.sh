# The node's root (exported, for the commands the script runs) and all three of its settings files:
# node.env, valkey.env (the app's passwords) and valkey-admin.env (the admin users' passwords).
# shellcheck source=cloud-init/scripts/lib/node-root.sh
source "${BASH_SOURCE[0]%/*}/lib/node-root.sh"
export YQ_ROOT
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/node.env"
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/valkey.env"
# shellcheck source=/dev/null
source "${YQ_ROOT}/etc/yquant/valkey-admin.env"
