/**
 * The topology table (each node's facts, once) and the role table (what a role brings, once).
 *
 * Everything per node or per role is read from here: the renderers (packages, scripts, Valkey,
 * firewall, units), the program (subnet, sizing, fault domain, public address, rebuild) and the lab
 * (root, loopback address, services). Adding a node is a row in `TOPOLOGY.nodes`, plus a row in
 * `roles` when it brings something new; tests/topology/fourth-node.test.ts adds a Sentinel-only witness to
 * a copy and checks that the renderers, the program and the lab follow. Pure data: it imports nothing.
 *
 * An engine's node name is its color (`blue`, `green`): the switch, the releases and the rebuild
 * counters are keyed by color, and `validateTopology` holds that.
 */

/** A node's name in the topology table (`gate`, `blue`, `green` by default). */
export type NodeName = string;

/** The subnets of the Network component; a node's primary VNIC sits in one. */
export type SubnetName = "gate" | "engine";

/** The ports of `Layout.ports` a firewall rule may open. */
export type PortName = "http" | "https" | "staging" | "stats" | "app" | "valkey" | "sentinel" | "replica";

/** The operations scripts, kept as real files in `cloud-init/scripts/`. */
export const SCRIPT_NAMES = ["setup", "deploy", "health-check", "switch-active", "promote-master"] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/**
 * Who may reach a port: anyone, the admin CIDRs, the node of role `gate` (HAProxy and the jump
 * host), or every node of the topology.
 */
export type FirewallSource = "world" | "admin" | "gate" | "cluster";

export interface FirewallGrant {
  readonly port: PortName;
  readonly from: FirewallSource;
  /** The rule's name in `/etc/yquant/firewall.rules`. */
  readonly name: string;
}

/** What a role brings to each node that has it. */
export interface RoleSpec {
  /** Debian packages cloud-init installs, in order. */
  readonly packages: readonly string[];
  /** The node's Valkey: the gate's token store, an engine's message store, or none. */
  readonly valkey: "token" | "message" | "none";
  /**
   * Whether the node runs a third replica of the message store that is never promoted
   * (`replica-priority 0`, port `replica`, unit `valkey-server@replica`): with
   * `min-replicas-to-write 1` a master then always has a second replica to count, also after a
   * failover while the old master stays away (docs/valkey.md, "Failures: the durability model").
   */
  readonly messageReplica: boolean;
  /** Whether the node runs a Sentinel (it watches the message Valkey). */
  readonly sentinel: boolean;
  /** Whether the node runs HAProxy (live, staging and stats frontends). Exactly one node may. */
  readonly haproxy: boolean;
  /** Whether the node runs the app's services (`yquant-<service>.service`) and the placeholder app. */
  readonly app: boolean;
  /** Operations scripts installed in `/opt/yquant/bin`, in `SCRIPT_NAMES` order. */
  readonly scripts: readonly ScriptName[];
  /** Host firewall rules, in the order `firewall.rules` lists them. */
  readonly firewall: readonly FirewallGrant[];
  /** Which config keys size the instance: `gateShape`/`gateImageId`, or the `engine*` keys. */
  readonly sizing: "gate" | "engine";
  /**
   * The public address: `reserved` (GateAddress binds a reserved IP, the instance gets none), or
   * `withoutNat` (an ephemeral one only when the stack has no NAT gateway).
   */
  readonly publicIp: "reserved" | "withoutNat";
  /** Whether a per-color rebuild counter replaces the node (bluegreen/rebuild.ts). */
  readonly rebuildable: boolean;
  /**
   * Monitoring (cloud-init/monitoring.ts): `agent` runs node_exporter and node-metrics.sh only;
   * `server` also runs redis_exporter, Prometheus and a clustered Alertmanager; `none` runs nothing
   * (and is not scraped). Its packages are in `packages`.
   */
  readonly monitoring: "agent" | "server" | "none";
}

/** One node's facts. */
export interface NodeSpec {
  readonly name: NodeName;
  /** A key of `Topology.roles`. */
  readonly role: string;
  /** Display name and hostname label, as the user's document names them. */
  readonly hostname: string;
  readonly subnet: SubnetName;
  /** Host offset of the pinned private address inside the subnet (OCI reserves the first two). */
  readonly hostOffset: number;
  readonly faultDomain: string;
  /** The node's own loopback address in the lab. */
  readonly labAddress: string;
}

export interface Topology {
  readonly nodes: readonly NodeSpec[];
  readonly roles: Readonly<Record<string, RoleSpec>>;
}

const cluster = (port: PortName): FirewallGrant => ({ port, from: "cluster", name: port });

export const ROLES: Readonly<Record<"gate" | "engine", RoleSpec>> = {
  gate: {
    packages: [
      "haproxy",
      "valkey-server",
      "valkey-sentinel",
      "socat",
      "jq",
      "openssl",
      "curl",
      "iptables-persistent",
      "prometheus-node-exporter",
    ],
    valkey: "token",
    messageReplica: true,
    sentinel: true,
    haproxy: true,
    app: false,
    scripts: ["setup", "health-check", "switch-active"],
    firewall: [
      { port: "http", from: "world", name: "http" },
      { port: "https", from: "world", name: "https" },
      { port: "staging", from: "admin", name: "staging" },
      { port: "stats", from: "admin", name: "stats" },
      cluster("valkey"),
      cluster("sentinel"),
      // The engines' Sentinels and redis_exporter reach the message replica (it connects out to the master).
      { port: "replica", from: "cluster", name: "message-replica" },
    ],
    sizing: "gate",
    publicIp: "reserved",
    rebuildable: false,
    monitoring: "agent",
  },
  engine: {
    packages: [
      "valkey-server",
      "valkey-sentinel",
      "python3",
      "git",
      "socat",
      "jq",
      "curl",
      "iptables-persistent",
      "prometheus-node-exporter",
      "prometheus-redis-exporter",
      "prometheus",
      "prometheus-alertmanager",
    ],
    valkey: "message",
    messageReplica: false,
    sentinel: true,
    haproxy: false,
    app: true,
    scripts: ["setup", "deploy", "health-check"],
    firewall: [{ port: "app", from: "gate", name: "app" }, cluster("valkey"), cluster("sentinel")],
    sizing: "engine",
    publicIp: "withoutNat",
    rebuildable: true,
    monitoring: "server",
  },
};

/** The stack's three nodes. */
export const TOPOLOGY: Topology = {
  nodes: [
    {
      name: "gate",
      role: "gate",
      hostname: "yq-gate",
      subnet: "gate",
      hostOffset: 10,
      faultDomain: "FAULT-DOMAIN-1",
      labAddress: "127.0.10.1",
    },
    {
      name: "blue",
      role: "engine",
      hostname: "yq-blue",
      subnet: "engine",
      hostOffset: 10,
      faultDomain: "FAULT-DOMAIN-2",
      labAddress: "127.0.10.2",
    },
    {
      name: "green",
      role: "engine",
      hostname: "yq-green",
      subnet: "engine",
      hostOffset: 11,
      faultDomain: "FAULT-DOMAIN-3",
      labAddress: "127.0.10.3",
    },
  ],
  roles: ROLES,
};

/** Names of the default topology's nodes, in table order. */
export const NODE_NAMES: readonly NodeName[] = TOPOLOGY.nodes.map((n) => n.name);

/** A topology refused because its table cannot describe a working layout. */
export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TopologyError";
  }
}

/** The node named `name`; throws a TopologyError naming the known ones when there is none. */
export function nodeSpec(topology: Topology, name: NodeName): NodeSpec {
  const spec = topology.nodes.find((n) => n.name === name);
  if (spec === undefined) {
    throw new TopologyError(
      `unknown node "${name}": expected one of ${topology.nodes.map((n) => n.name).join(", ")}`,
    );
  }
  return spec;
}

/** What the role of node `name` brings. */
export function roleOf(topology: Topology, name: NodeName): RoleSpec {
  const spec = nodeSpec(topology, name);
  const role = topology.roles[spec.role];
  if (role === undefined) {
    throw new TopologyError(
      `topology.nodes.${name}.role: "${spec.role}" is not a role: expected one of ${Object.keys(topology.roles).join(", ")}`,
    );
  }
  return role;
}

/** The nodes whose role matches `test`, in table order. */
export function nodesWhere(topology: Topology, test: (role: RoleSpec) => boolean): NodeName[] {
  return topology.nodes.filter((n) => test(roleOf(topology, n.name))).map((n) => n.name);
}

/** The one node that runs HAProxy (the gate). */
export function gateNode(topology: Topology): NodeName {
  const [gate] = nodesWhere(topology, (role) => role.haproxy);
  if (gate === undefined) throw new TopologyError("topology: no node runs HAProxy");
  return gate;
}

/**
 * Refuses a table that would render a broken layout, naming the row: unique names, hostnames,
 * addresses and lab addresses; known roles; one HAProxy node; the engines (app nodes) are exactly
 * the colors `colors`, each named after its color.
 */
export function validateTopology(topology: Topology, colors: readonly string[]): void {
  const unique = (what: string, values: readonly string[]): void => {
    const seen = new Set<string>();
    for (const value of values) {
      if (seen.has(value)) throw new TopologyError(`topology: ${what} "${value}" is used twice`);
      seen.add(value);
    }
  };
  unique(
    "name",
    topology.nodes.map((n) => n.name),
  );
  unique(
    "hostname",
    topology.nodes.map((n) => n.hostname),
  );
  unique(
    "labAddress",
    topology.nodes.map((n) => n.labAddress),
  );
  unique(
    "subnet address",
    topology.nodes.map((n) => `${n.subnet}+${n.hostOffset}`),
  );
  for (const node of topology.nodes) roleOf(topology, node.name);
  const haproxy = nodesWhere(topology, (role) => role.haproxy);
  if (haproxy.length !== 1) {
    throw new TopologyError(`topology: exactly one node runs HAProxy, got ${haproxy.length}`);
  }
  const engines = nodesWhere(topology, (role) => role.app);
  if (engines.join(",") !== colors.join(",")) {
    throw new TopologyError(
      `topology: the app nodes must be ${colors.join(", ")} (named after their color), got ${engines.join(", ") || "none"}`,
    );
  }
}
