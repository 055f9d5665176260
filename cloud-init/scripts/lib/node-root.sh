# The node's root as every operations script finds it: "" on a VM, where the scripts are installed in
# /opt/yquant/bin, or the node's directory in the lab (<root>/opt/yquant/bin). script_dir is the
# directory of the running script (cloud-init/scripts.ts puts this file in each script that sources
# it, so BASH_SOURCE[0] is that script).
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
YQ_ROOT=$(cd -- "${script_dir}/../../.." && pwd)
[[ ${YQ_ROOT} == "/" ]] && YQ_ROOT=""
