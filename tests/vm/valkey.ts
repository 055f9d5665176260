/**
 * Valkey and Sentinel as the guests see them: valkey-cli in the guest, with the ACL users the node's
 * env files name (the apps' user from valkey.env, the scripts' admin user from valkey-admin.env).
 */
import type { NodeName } from "../../cloud-init/layout";
import { guest } from "./report";

const ENV = ". /etc/yquant/node.env; . /etc/yquant/valkey.env; . /etc/yquant/valkey-admin.env;";

/** The master address this node's Sentinel reports. */
export async function sentinelMaster(node: NodeName): Promise<string> {
  const out = await guest(
    node,
    `${ENV} REDISCLI_AUTH="$SENTINEL_PASSWORD" valkey-cli --no-auth-warning --user "$SENTINEL_USER" -h "$NODE_LOOPBACK" -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$SENTINEL_MASTER_NAME" | head -n 1`,
    30,
  );
  return out.trim();
}

/** `role:… master_host:… master_link_status:…` of this node's Valkey (INFO is the admin user's). */
export async function replication(node: NodeName): Promise<string> {
  const out = await guest(
    node,
    `${ENV} REDISCLI_AUTH="$LOCAL_ADMIN_PASSWORD" valkey-cli --no-auth-warning --user "$VALKEY_ADMIN_USER" -h "$NODE_LOOPBACK" -p "$VALKEY_PORT" info replication | tr -d '\\r' | grep -E '^(role|master_host|master_link_status|connected_slaves):' | paste -sd' '`,
    30,
  );
  return out.trim();
}

/**
 * Runs valkey-cli as the apps' user against `host` (default: the node's own Valkey): the message
 * store's password on an engine, the token store's on the gate (the store `node` itself holds).
 */
export async function vcli(node: NodeName, args: string, host = '"$NODE_LOOPBACK"'): Promise<string> {
  const password = node === "gate" ? "$TOKEN_VALKEY_PASSWORD" : "$VALKEY_PASSWORD";
  return (
    await guest(
      node,
      `${ENV} REDISCLI_AUTH="${password}" valkey-cli --no-auth-warning --user "$VALKEY_USER" -h ${host} -p "$VALKEY_PORT" ${args}`,
      30,
    )
  ).trim();
}
