/**
 * Builds the cloud `Layout` (cloud-init/layout.ts) from the validated StackConfig and the resolved
 * secret values. Pure: called inside `pulumi.all([...secrets]).apply(...)`, right before
 * `renderUserData(layout, node)`. Nothing here reads `activeColor`: the switch is a command run on the
 * gate, so user data never depends on it.
 */
import {
  DEFAULT_APP,
  DEFAULT_MONITORING,
  DEFAULT_PORTS,
  DEFAULT_SENTINEL,
  Layout,
  LayoutSecrets,
  TOPOLOGY,
  Topology,
  nodesWhere,
} from "./cloud-init/layout";
import { StackConfig } from "./config";

/** The parts of StackConfig the layout reads. `activeColor` is deliberately not among them. */
export type LayoutConfig = Pick<
  StackConfig,
  | "privateIps"
  | "adminCidrs"
  | "appRepository"
  | "appBuildCommand"
  | "drainSeconds"
  | "engineMemoryGbs"
  | "alertWebhookUrl"
>;

/** Token Valkey `maxmemory` on the gate (1 GB on E2.1.Micro). */
export const TOKEN_MAXMEMORY_MB = 256;
/**
 * The message store's `maxmemory` that the gate's replica can hold while the gate's services stay
 * within 128 MB RSS in all (measured in docs/valkey.md, "The gate replica and its memory").
 */
export const GATE_REPLICA_MAXMEMORY_MB = 32;
/**
 * Message store `maxmemory` (both engines and the gate's replica, which holds the same data): what
 * the gate's replica can hold, or a quarter of the engine's memory if less. A master stops taking
 * writes (OOM, noeviction) before its replicas run out.
 */
export function messageMaxmemoryMb(engineMemoryGbs: number): number {
  return Math.min(GATE_REPLICA_MAXMEMORY_MB, Math.floor((engineMemoryGbs * 1024) / 4));
}

export function buildCloudLayout(
  config: LayoutConfig,
  secrets: LayoutSecrets,
  topology: Topology = TOPOLOGY,
): Layout {
  const names = topology.nodes.map((n) => n.name);
  return {
    topology,
    roots: Object.fromEntries(names.map((name) => [name, "/"])),
    nodes: Object.fromEntries(
      names.map((name) => [name, { privateIp: config.privateIps[name], loopback: "127.0.0.1" }]),
    ),
    publicBind: "*",
    ports: DEFAULT_PORTS,
    adminCidrs: [...config.adminCidrs],
    sentinel: DEFAULT_SENTINEL,
    app: {
      repository: config.appRepository,
      buildCommand: config.appBuildCommand,
      services: DEFAULT_APP.services,
    },
    secrets: {
      valkeyPassword: secrets.valkeyPassword,
      sentinelPassword: secrets.sentinelPassword,
      tlsPem: secrets.tlsPem,
      users: secrets.users,
    },
    tokenMaxmemoryMb: TOKEN_MAXMEMORY_MB,
    messageMaxmemoryMb: messageMaxmemoryMb(config.engineMemoryGbs),
    drainSeconds: config.drainSeconds,
    serviceControl: "systemctl",
    production: true,
    // Read inside the program's apply over the secrets: the user data holding it is secret.
    monitoring: { ...DEFAULT_MONITORING, webhookUrl: config.alertWebhookUrl.reveal() },
  };
}

/** `host:port` of every Sentinel, in topology order (gate first), for apps. */
export function sentinelAddresses(
  config: Pick<StackConfig, "privateIps">,
  topology: Topology = TOPOLOGY,
): string[] {
  return nodesWhere(topology, (role) => role.sentinel).map(
    (name) => `${config.privateIps[name]}:${DEFAULT_PORTS.sentinel}`,
  );
}
