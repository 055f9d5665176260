/**
 * Small per-node files: the env files the scripts and apps read, the host firewall rules, and the
 * systemd units of the app's services. Pure functions over the Layout.
 */
import {
  COLORS,
  Layout,
  NodeName,
  gateNode,
  nodeNames,
  nodePath,
  nodeSpec,
  nodesWhere,
  roleOf,
  tokenNode,
  USER_SECRETS,
} from "./layout";
import { monitoringFirewallRules, monitoringUnits } from "./monitoring";
import { FirewallSource, validateTopology } from "./topology";
import { USER_NAMES } from "./valkey";
import { TOKEN_DATA_DIR, TOKEN_VOLUME } from "./token-volume";

/** A render refused because the Layout holds a value that cannot be written safely. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

const SAFE_VALUE = /^[^'\n\r\\]*$/;
const SAFE_SECRET = /^[\x21-\x7e]+$/;
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * Refuses a Layout that would render broken or unsafe files, naming the field. Env values are
 * written single-quoted (read the same way by bash and by systemd's `EnvironmentFile=`), so they may
 * not hold a single quote, a backslash or a newline; Valkey reads secrets as bare words.
 */
export function validateLayout(layout: Layout): void {
  validateTopology(layout.topology, COLORS);
  const passwords: [string, string][] = [
    ["valkeyPassword", layout.secrets.valkeyPassword],
    ["sentinelPassword", layout.secrets.sentinelPassword],
    ...USER_SECRETS.map((key): [string, string] => [`users.${key}`, layout.secrets.users?.[key] ?? ""]),
  ];
  const owners = new Map<string, string>();
  for (const [field, value] of passwords) {
    if (!SAFE_SECRET.test(value) || /["'\\]/.test(value)) {
      throw new RenderError(
        `layout.secrets.${field}: must be printable ASCII without spaces, quotes or backslashes`,
      );
    }
    const other = owners.get(value);
    if (other !== undefined) {
      throw new RenderError(
        `layout.secrets.${field}: must differ from layout.secrets.${other} (one password per store and role)`,
      );
    }
    owners.set(value, field);
  }
  if (layout.app.services.length === 0) {
    throw new RenderError("layout.app.services: at least one service (the first serves the app port)");
  }
  const seen = new Set<string>();
  for (const service of layout.app.services) {
    if (!SERVICE_NAME.test(service.name) || seen.has(service.name)) {
      throw new RenderError(
        `layout.app.services: "${service.name}" must be a unique name of lowercase letters, digits and "-"`,
      );
    }
    seen.add(service.name);
    if (/[\n\r]/.test(service.command)) {
      throw new RenderError(`layout.app.services.${service.name}.command: must be one line`);
    }
  }
  const plain: Record<string, string> = {
    "app.repository": layout.app.repository,
    "app.buildCommand": layout.app.buildCommand,
    serviceControl: layout.serviceControl,
    publicBind: layout.publicBind,
  };
  for (const [field, value] of Object.entries(plain)) {
    if (!SAFE_VALUE.test(value)) {
      throw new RenderError(`layout.${field}: must not contain quotes, backslashes or newlines`);
    }
  }
  for (const [key, port] of Object.entries(layout.ports)) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RenderError(`layout.ports.${key}: must be an integer from 1 to 65535, got ${String(port)}`);
    }
  }
  for (const key of ["http", "https", "staging", "stats", "app", "valkey", "sentinel", "replica"] as const) {
    if (layout.ports[key] === undefined) {
      throw new RenderError(`layout.ports.${key}: missing`);
    }
  }
  for (const node of nodeNames(layout)) {
    if (typeof layout.nodes[node]?.privateIp !== "string") {
      throw new RenderError(`layout.nodes.${node}: missing (every node of the topology needs an address)`);
    }
    if (typeof layout.roots[node] !== "string" || !layout.roots[node].startsWith("/")) {
      throw new RenderError(`layout.roots.${node}: must be an absolute path, got "${layout.roots[node]}"`);
    }
  }
}

function envFile(header: string, entries: readonly (readonly [string, string | number])[]): string {
  return [header, ...entries.map(([key, value]) => `${key}='${String(value)}'`)].join("\n") + "\n";
}

/** `/etc/yquant/node.env`: the non-secret settings every script sources (keys in docs/architecture.md). */
export function renderNodeEnv(layout: Layout, node: NodeName): string {
  const { ports } = layout;
  return envFile(`# Rendered by yquant-infra (cloud-init/node-config.ts) for ${node}. Non-secret.`, [
    ["NODE_NAME", node],
    ["NODE_ROLE", nodeSpec(layout.topology, node).role],
    ["NODE_IP", layout.nodes[node].privateIp],
    ["NODE_LOOPBACK", layout.nodes[node].loopback],
    ["GATE_IP", layout.nodes[gateNode(layout.topology)].privateIp],
    ["BLUE_IP", layout.nodes.blue.privateIp],
    ["GREEN_IP", layout.nodes.green.privateIp],
    ["HTTP_PORT", ports.http],
    ["HTTPS_PORT", ports.https],
    ["STAGING_PORT", ports.staging],
    ["STATS_PORT", ports.stats],
    ["APP_PORT", ports.app],
    ["VALKEY_PORT", ports.valkey],
    ["SENTINEL_PORT", ports.sentinel],
    ["SENTINEL_MASTER_NAME", layout.sentinel.masterName],
    ["SENTINEL_QUORUM", layout.sentinel.quorum],
    // Only the switch reads it (switch-active.sh, on the HAProxy node): a drainSeconds change then
    // converges that node alone.
    ...(roleOf(layout.topology, node).haproxy ? [["DRAIN_SECONDS", layout.drainSeconds] as const] : []),
    // promote-master.sh (on the gate) waits for a promotion as long as Sentinel pursues it.
    ...(roleOf(layout.topology, node).haproxy
      ? ([["SENTINEL_FAILOVER_TIMEOUT_MS", layout.sentinel.failoverTimeoutMilliseconds]] as const)
      : []),
    // The message store's never-promoted replica (setup.sh starts it, health-check.sh checks it).
    ...(roleOf(layout.topology, node).messageReplica
      ? ([["MESSAGE_REPLICA_PORT", ports.replica]] as const)
      : []),
    // The token Valkey's volume (cloud-init/token-volume.ts): setup.sh mounts it before Valkey starts.
    ...(roleOf(layout.topology, node).valkey === "token"
      ? ([
          ["TOKEN_VOLUME_LABEL", TOKEN_VOLUME.label],
          ["TOKEN_VOLUME_MOUNT", TOKEN_VOLUME.mount],
          ["TOKEN_VOLUME_GBS", TOKEN_VOLUME.sizeGbs],
          ["TOKEN_DATA_DIR", TOKEN_DATA_DIR],
        ] as const)
      : []),
    ["SERVICE_CONTROL", layout.serviceControl],
    ["HOST_FIREWALL", layout.production ? "on" : "off"],
    ["PRODUCTION", layout.production ? "true" : "false"],
    ["APP_REPOSITORY", layout.app.repository],
    ["APP_BUILD_COMMAND", layout.app.buildCommand],
    ["APP_SERVICES", layout.app.services.map((s) => s.name).join(" ")],
    ["APP_HTTP_SERVICE", layout.app.services[0]?.name ?? ""],
    ["MONITORING_UNITS", monitoringUnits(layout, node).join(" ")],
  ]);
}

/** `/etc/yquant/valkey.env` (root:yquant 0640): what the apps need to reach Valkey and Sentinel. */
export function renderValkeyEnv(layout: Layout, node: NodeName): string {
  const sentinels = sentinelNodes(layout)
    .map((n) => `${layout.nodes[n].privateIp}:${layout.ports.sentinel}`)
    .join(",");
  return envFile(
    `# Rendered by yquant-infra (cloud-init/node-config.ts) for ${node}. SECRET: root:yquant 0640.`,
    [
      ["VALKEY_USER", APP_USER],
      ["VALKEY_PASSWORD", layout.secrets.valkeyPassword],
      ["TOKEN_VALKEY_USER", APP_USER],
      ["TOKEN_VALKEY_PASSWORD", layout.secrets.users.tokenApp],
      ["SENTINEL_USER", APP_USER],
      ["SENTINEL_PASSWORD", layout.secrets.sentinelPassword],
      ["SENTINEL_MASTER_NAME", layout.sentinel.masterName],
      ["SENTINELS", sentinels],
      ["TOKEN_VALKEY", `${layout.nodes[tokenNode(layout)].privateIp}:${layout.ports.valkey}`],
    ],
  );
}

/** The nodes that run a Sentinel, in topology order. */
export function sentinelNodes(layout: Layout): NodeName[] {
  return nodesWhere(layout.topology, (role) => role.sentinel);
}

const APP_USER = USER_NAMES.app;
const ADMIN_USER = USER_NAMES.admin;

/**
 * `/etc/yquant/valkey-admin.env` (root:root 0600): the operations scripts' own credentials (the admin
 * user of this node's Valkey, of the message Valkey and of Sentinel), which no app reads.
 */
export function renderValkeyAdminEnv(layout: Layout, node: NodeName): string {
  const { users } = layout.secrets;
  const local = roleOf(layout.topology, node).valkey;
  return envFile(
    `# Rendered by yquant-infra (cloud-init/node-config.ts) for ${node}. SECRET: root:root 0600, scripts only.`,
    [
      ["VALKEY_ADMIN_USER", ADMIN_USER],
      ["LOCAL_ADMIN_PASSWORD", local === "token" ? users.tokenAdmin : users.messageAdmin],
      ["MESSAGE_ADMIN_PASSWORD", users.messageAdmin],
      // For the gate-loss runbook (SENTINEL SET mymaster auth-pass after a new MONITOR).
      ["MESSAGE_SENTINEL_PASSWORD", users.messageSentinel],
      ["SENTINEL_ADMIN_USER", ADMIN_USER],
      ["SENTINEL_ADMIN_PASSWORD", users.sentinelAdmin],
    ],
  );
}

/** One host firewall rule: `tcp <port> <source CIDR> <name>`. */
export interface FirewallRule {
  /** Default "tcp". */
  readonly proto?: "tcp" | "udp";
  readonly port: number;
  readonly source: string;
  readonly name: string;
}

/** The exact port map of a node: what `setup.sh` opens above the image's REJECT rule. */
export function firewallRules(layout: Layout, node: NodeName): FirewallRule[] {
  const sources: Readonly<Record<FirewallSource, readonly string[]>> = {
    world: ["0.0.0.0/0"],
    admin: layout.adminCidrs,
    gate: [`${layout.nodes[gateNode(layout.topology)].privateIp}/32`],
    cluster: nodeNames(layout).map((n) => `${layout.nodes[n].privateIp}/32`),
  };
  return [
    ...roleOf(layout.topology, node).firewall.flatMap((grant) =>
      sources[grant.from].map((source) => ({ port: layout.ports[grant.port], source, name: grant.name })),
    ),
    ...monitoringFirewallRules(layout, node),
  ];
}

export function renderFirewallRules(layout: Layout, node: NodeName): string {
  return (
    [
      `# Rendered by yquant-infra (cloud-init/node-config.ts) for ${node}: proto port source name.`,
      "# setup.sh inserts one ACCEPT per line above the image's REJECT in INPUT (iptables -C first).",
      ...firewallRules(layout, node).map((r) => `${r.proto ?? "tcp"} ${r.port} ${r.source} ${r.name}`),
    ].join("\n") + "\n"
  );
}

function systemdQuote(command: string): string {
  return `"${command.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$/g, "$$$$").replace(/%/g, "%%")}"`;
}

/** `yquant-<service>.service` on an engine. The placeholder app runs when no command is configured. */
export function renderAppUnit(layout: Layout, node: NodeName, serviceName: string): string {
  const service = layout.app.services.find((s) => s.name === serviceName);
  if (service === undefined) {
    throw new RenderError(`renderAppUnit: no service "${serviceName}" in layout.app.services`);
  }
  const p = (abs: string): string => nodePath(layout, node, abs);
  const root = layout.roots[node] === "/" ? "" : layout.roots[node].replace(/\/+$/, "");
  const current = p("/opt/yquant/current");
  const execStart =
    service.command === ""
      ? `/usr/bin/python3 ${current}/app.py --service ${service.name}`
      : `/bin/sh -c ${systemdQuote(service.command)}`;
  return (
    [
      "# Rendered by yquant-infra (cloud-init/node-config.ts).",
      "[Unit]",
      `Description=yQuant ${service.name} (${node})`,
      "After=network-online.target valkey-server.service",
      "Wants=network-online.target",
      "",
      "[Service]",
      "Type=simple",
      "User=yquant",
      "Group=yquant",
      `EnvironmentFile=${p("/etc/yquant/node.env")}`,
      `EnvironmentFile=${p("/etc/yquant/valkey.env")}`,
      `Environment=YQ_ROOT=${root}`,
      `Environment=YQ_SERVICE=${service.name}`,
      `WorkingDirectory=${current}`,
      `ExecStart=${execStart}`,
      "Restart=always",
      "RestartSec=1",
      "",
      "[Install]",
      "WantedBy=multi-user.target",
    ].join("\n") + "\n"
  );
}
