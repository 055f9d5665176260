/**
 * The plain, typed description of the three-node layout that every renderer reads.
 *
 * The Pulumi program builds one `Layout` for the cloud (`root: "/"`, private VCN addresses) and the
 * lab builds one for a single machine (`root: <lab dir>/<node>`, loopback addresses). Both feed the
 * same renderers, so the files on the VMs, in the lab and in the tests have one source of truth.
 * Nothing here depends on `activeColor`: the switch is a command run on the gate.
 */
import * as path from "node:path";
import type { Color } from "../rules";
import { NodeName, TOPOLOGY, Topology, TopologyError, nodeSpec, nodesWhere } from "./topology";

export {
  NODE_NAMES,
  NodeName,
  NodeSpec,
  RoleSpec,
  ROLES,
  SubnetName,
  TOPOLOGY,
  Topology,
  TopologyError,
  gateNode,
  nodeSpec,
  nodesWhere,
  roleOf,
} from "./topology";

export { COLORS, Color, isColor, otherColor } from "../rules";

/** Host names of the default topology's nodes (the table's `hostname` column). */
export const HOSTNAMES: Readonly<Record<NodeName, string>> = Object.fromEntries(
  TOPOLOGY.nodes.map((n) => [n.name, n.hostname]),
);

/** The engine whose message Valkey starts as master. Fixed: it never follows `activeColor`. */
export const BOOTSTRAP_MESSAGE_MASTER: Color = "blue";

export interface Ports {
  /** Live HTTP on the gate. */
  readonly http: number;
  /** Live HTTPS on the gate. */
  readonly https: number;
  /** Staging route on the gate to the current standby, admin CIDRs only. */
  readonly staging: number;
  /** HAProxy stats page (`/stats`) and Prometheus metrics (`/metrics`), admin CIDRs only. */
  readonly stats: number;
  /** The app on each engine (`/health`). */
  readonly app: number;
  /** Valkey on every node: token store on the gate, message store on the engines. */
  readonly valkey: number;
  /** Sentinel on every node. */
  readonly sentinel: number;
  /** The message store's never-promoted replica (on the gate: role `messageReplica`). */
  readonly replica: number;
}

export const DEFAULT_PORTS: Ports = {
  http: 80,
  https: 443,
  staging: 8080,
  stats: 8404,
  app: 5000,
  valkey: 6379,
  sentinel: 26379,
  replica: 6380,
};

export interface SentinelSettings {
  /** The monitored master's name. */
  readonly masterName: string;
  /** How many Sentinels must agree that the master is down. */
  readonly quorum: number;
  /** */
  readonly downAfterMilliseconds: number;
  /** */
  readonly failoverTimeoutMilliseconds: number;
}

export const DEFAULT_SENTINEL: SentinelSettings = {
  masterName: "mymaster",
  quorum: 2,
  downAfterMilliseconds: 5000,
  failoverTimeoutMilliseconds: 60000,
};

/** One long-running service of the app, installed as the systemd unit `yquant-<name>.service`. */
export interface AppService {
  /** Unit suffix, e.g. `frontend`. */
  readonly name: string;
  /** Command run from the current release's directory. Empty means the built-in placeholder. */
  readonly command: string;
}

export interface AppSettings {
  /** Git URL of the app; empty means the built-in placeholder app. */
  readonly repository: string;
  /** Build command run inside a fetched release. */
  readonly buildCommand: string;
  /** The services of the document: Frontend, Backend, Sync. Frontend serves the app port. */
  readonly services: readonly AppService[];
}

export const DEFAULT_APP: AppSettings = {
  repository: "",
  buildCommand: "",
  services: [
    { name: "frontend", command: "" },
    { name: "backend", command: "" },
    { name: "sync", command: "" },
  ],
};

/**
 * The ACL users' passwords besides the apps' two (docs/valkey.md, "Users and rights"): per store
 * (token, message) and role (app, admin for the scripts, replication, Sentinel), and Sentinel's own
 * admin and peer users. Generated (components/secrets.ts); every one distinct.
 */
export const USER_SECRETS = [
  "tokenApp",
  "tokenAdmin",
  "messageAdmin",
  "messageReplication",
  "messageSentinel",
  "sentinelAdmin",
  "sentinelPeer",
  "tokenMonitor",
  "messageMonitor",
  "sentinelMonitor",
] as const;
export type UserSecret = (typeof USER_SECRETS)[number];

export interface LayoutSecrets {
  /** Password of the apps' user `app` on the message Valkey. */
  readonly valkeyPassword: string;
  /** Password of the apps' user `app` on Sentinel: discovery only. */
  readonly sentinelPassword: string;
  /** Every other ACL user's password (USER_SECRETS). */
  readonly users: Readonly<Record<UserSecret, string>>;
  /** PEM with certificate and key for HAProxy's 443; empty means a self-signed one made at first boot. */
  readonly tlsPem: string;
}

export interface NodeAddress {
  /** The pinned private address (cloud) or the node's own loopback address (lab). */
  readonly privateIp: string;
  /** Where the node's own tools reach its local services: 127.0.0.1 on a VM, `privateIp` in the lab. */
  readonly loopback: string;
}

export interface Layout {
  /** The nodes and roles (cloud-init/topology.ts); `roots` and `nodes` have one entry per node. */
  readonly topology: Topology;
  /** Filesystem root every rendered path hangs from: "/" on a VM, `<lab dir>/<node>` in the lab. */
  readonly roots: Readonly<Record<NodeName, string>>;
  readonly nodes: Readonly<Record<NodeName, NodeAddress>>;
  /** Address HAProxy's live and staging frontends bind: "*" on the gate VM, the gate's address in the lab. */
  readonly publicBind: string;
  readonly ports: Ports;
  /** CIDRs allowed to SSH, to reach staging and the stats/metrics port. */
  readonly adminCidrs: readonly string[];
  readonly sentinel: SentinelSettings;
  readonly app: AppSettings;
  readonly secrets: LayoutSecrets;
  /** Token Valkey `maxmemory` in MB, sized for the 1 GB gate (stack-layout.ts, TOKEN_MAXMEMORY_MB). */
  readonly tokenMaxmemoryMb: number;
  /**
   * Message store `maxmemory` in MB: on both engines and on the gate's replica, which holds the
   * same data, so the gate bounds it (stack-layout.ts, messageMaxmemoryMb).
   */
  readonly messageMaxmemoryMb: number;
  /** Default drain window of `switch-active.sh`, in seconds (yquant:drainSeconds). */
  readonly drainSeconds: number;
  /**
   * How the operations scripts control services: "systemctl" on a VM; in the lab, the path of the
   * lab's service-control shim, which takes the same verbs.
   */
  readonly serviceControl: string;
  /** Production hardening that needs root and real service users (chroot, `user haproxy`, host firewall). */
  readonly production: boolean;
  /** Prometheus and Alertmanager timing, retention and delivery (cloud-init/monitoring.ts). */
  readonly monitoring: MonitoringSettings;
}

/** What the monitoring renderers read; the cloud and the lab differ only in these values. */
export interface MonitoringSettings {
  /** Prometheus `scrape_interval`, seconds. */
  readonly scrapeIntervalSeconds: number;
  /** Prometheus `evaluation_interval`, seconds; each alert's `for` is a multiple of it. */
  readonly evaluationIntervalSeconds: number;
  /** Alertmanager `group_wait`, seconds. */
  readonly groupWaitSeconds: number;
  /** Alertmanager `group_interval`, seconds. */
  readonly groupIntervalSeconds: number;
  /** Alertmanager `repeat_interval` of warnings, seconds (criticals: a quarter of it). */
  readonly repeatIntervalSeconds: number;
  /** How long an event alert (a Sentinel failover) stays firing after the event, seconds. */
  readonly eventHoldSeconds: number;
  /** Prometheus retention by time, days. */
  readonly retentionDays: number;
  /** Prometheus retention by size, MB (the TSDB never grows past it). */
  readonly retentionSizeMb: number;
  /** Webhook Alertmanager posts every notification to (a secret); "" delivers nothing. */
  readonly webhookUrl: string;
  /**
   * Alertmanager `--cluster.peer-timeout`, seconds: how long the second Alertmanager waits for the
   * first one's notification before sending its own.
   */
  readonly peerTimeoutSeconds: number;
}

export const DEFAULT_MONITORING: MonitoringSettings = {
  scrapeIntervalSeconds: 15,
  evaluationIntervalSeconds: 15,
  groupWaitSeconds: 30,
  groupIntervalSeconds: 300,
  repeatIntervalSeconds: 14400,
  eventHoldSeconds: 900,
  retentionDays: 15,
  retentionSizeMb: 1024,
  webhookUrl: "",
  peerTimeoutSeconds: 15,
};

/** An absolute path on `node`, rooted at the node's root. */
export function nodePath(layout: Layout, node: NodeName, absolutePath: string): string {
  nodeSpec(layout.topology, node);
  return path.posix.join(layout.roots[node], absolutePath);
}

/** The layout's node names, in topology order. */
export function nodeNames(layout: Layout): NodeName[] {
  return layout.topology.nodes.map((n) => n.name);
}

/** Addresses a service on `node` binds: its private address and its loopback, without repeats. */
export function bindAddresses(layout: Layout, node: NodeName): string[] {
  const { privateIp, loopback } = layout.nodes[node];
  return privateIp === loopback ? [privateIp] : [privateIp, loopback];
}

/** The nodes that run the message store's never-promoted replica (the gate by default). */
export function messageReplicaNodes(layout: Layout): NodeName[] {
  return nodesWhere(layout.topology, (role) => role.messageReplica);
}

/** The node of the token Valkey (the gate by default). */
export function tokenNode(layout: Layout): NodeName {
  const [node] = nodesWhere(layout.topology, (role) => role.valkey === "token");
  if (node === undefined) throw new TopologyError("topology: no node runs the token Valkey");
  return node;
}
