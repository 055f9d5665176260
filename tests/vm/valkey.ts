/** Valkey and Sentinel as the guests see them (valkey-cli in the guest, passwords from its env file). */
import type { NodeName } from "../../cloud-init/layout";
import { guest } from "./report";

const ENV = ". /etc/yquant/node.env; . /etc/yquant/valkey.env;";

/** The master address this node's Sentinel reports. */
export async function sentinelMaster(node: NodeName): Promise<string> {
  const out = await guest(
    node,
    `${ENV} REDISCLI_AUTH="$SENTINEL_PASSWORD" valkey-cli --no-auth-warning -h "$NODE_LOOPBACK" -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$SENTINEL_MASTER_NAME" | head -n 1`,
    30,
  );
  return out.trim();
}

/** `role:… master_host:… master_link_status:…` of this node's Valkey. */
export async function replication(node: NodeName): Promise<string> {
  const out = await guest(
    node,
    `${ENV} REDISCLI_AUTH="$VALKEY_PASSWORD" valkey-cli --no-auth-warning -h "$NODE_LOOPBACK" -p "$VALKEY_PORT" info replication | tr -d '\\r' | grep -E '^(role|master_host|master_link_status|connected_slaves):' | paste -sd' '`,
    30,
  );
  return out.trim();
}

/** Runs valkey-cli against `host` (default: the node's own Valkey) with the Valkey password. */
export async function vcli(node: NodeName, args: string, host = '"$NODE_LOOPBACK"'): Promise<string> {
  return (
    await guest(
      node,
      `${ENV} REDISCLI_AUTH="$VALKEY_PASSWORD" valkey-cli --no-auth-warning -h ${host} -p "$VALKEY_PORT" ${args}`,
      30,
    )
  ).trim();
}
