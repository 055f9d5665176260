/**
 * The lab's `Layout`: the nodes of the cloud layout on one Linux machine.
 *
 * Each node gets its own loopback address (the topology table's `labAddress`) so every node keeps
 * the port map of the cloud, and its own root `<lab dir>/<node>` under which every
 * rendered path hangs. The renderers are the cloud's own; only this plain value differs.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_APP,
  DEFAULT_PORTS,
  DEFAULT_SENTINEL,
  Layout,
  LayoutSecrets,
  MonitoringSettings,
  USER_SECRETS,
  UserSecret,
  Ports,
  TOPOLOGY,
  Topology,
  gateNode,
  nodeSpec,
} from "../cloud-init/layout";

/** The repository root (this file lives in `<repo>/lab/`). */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** The lab's service-control shim: the lab's `systemctl`. */
export const SERVICE_CONTROL = path.join(REPO_ROOT, "lab", "service-control.sh");

/** Each node's lab address (the topology table's `labAddress` column). */
export const LAB_ADDRESSES: Readonly<Record<string, string>> = Object.fromEntries(
  TOPOLOGY.nodes.map((n) => [n.name, n.labAddress]),
);

/** Added to 80/443 when this process may not bind privileged ports. */
export const UNPRIVILEGED_PORT_OFFSET = 10000;

/** The lab's drain window: short, so the scenarios and a person trying it need not wait 30 s. */
export const LAB_DRAIN_SECONDS = 2;

/** The lab's stand-in for the on-call webhook: a local receiver (lab/webhook-receiver.py) on its own address. */
export const LAB_WEBHOOK = { address: "127.0.10.9", port: 9099, path: "/alertmanager" } as const;

/**
 * The lab's monitoring timings: the cloud's renderers with 2-second scrapes and 1-second
 * evaluations, so a fault reaches the receiver in seconds (the shared 2-core machine keeps the
 * scrape load low); retention small. Every alert's `for` scales with the evaluation interval.
 */
export function labMonitoring(): MonitoringSettings {
  return {
    scrapeIntervalSeconds: 2,
    evaluationIntervalSeconds: 1,
    groupWaitSeconds: 1,
    groupIntervalSeconds: 2,
    repeatIntervalSeconds: 3600,
    eventHoldSeconds: 8,
    retentionDays: 1,
    retentionSizeMb: 64,
    webhookUrl: `http://${LAB_WEBHOOK.address}:${LAB_WEBHOOK.port}${LAB_WEBHOOK.path}`,
    // Alerts here live seconds: a 15 s wait would let the second Alertmanager send a stale copy
    // after the first one's "resolved", and then miss the next firing (its log says "sent").
    peerTimeoutSeconds: 1,
  };
}

/** `<repo>/.lab`, or `$YQ_LAB_DIR` when set. */
export function labDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.YQ_LAB_DIR;
  return override && override.length > 0 ? path.resolve(override) : path.join(REPO_ROOT, ".lab");
}

/** True when this process can bind ports below 1024 (root, or a lowered unprivileged port start). */
export function canBindPrivilegedPorts(): boolean {
  if (typeof process.getuid === "function" && process.getuid() === 0) return true;
  try {
    const start = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
    return Number.isFinite(start) && start <= 80;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** The cloud's port map; HTTP/HTTPS move to 10080/10443 when privileged ports are out of reach. */
export function labPorts(privileged: boolean = canBindPrivilegedPorts()): Ports {
  if (privileged) return DEFAULT_PORTS;
  return {
    ...DEFAULT_PORTS,
    http: DEFAULT_PORTS.http + UNPRIVILEGED_PORT_OFFSET,
    https: DEFAULT_PORTS.https + UNPRIVILEGED_PORT_OFFSET,
  };
}

const SECRET_FILE = "secrets.json";

/**
 * The lab's passwords: generated once per lab directory (hex, so they are safe in env files) and kept
 * in `<lab dir>/secrets.json` with mode 0600. The TLS PEM stays empty, so `setup.sh` makes a
 * self-signed certificate as it does on a VM without the `tlsPem` secret.
 */
export function labSecrets(dir: string, create = true): LayoutSecrets {
  const file = path.join(dir, SECRET_FILE);
  if (fs.existsSync(file)) {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LayoutSecrets>;
    const users = parsed.users as Partial<Record<UserSecret, unknown>> | undefined;
    if (
      typeof parsed.valkeyPassword === "string" &&
      typeof parsed.sentinelPassword === "string" &&
      USER_SECRETS.every((key) => typeof users?.[key] === "string")
    ) {
      return {
        valkeyPassword: parsed.valkeyPassword,
        sentinelPassword: parsed.sentinelPassword,
        users: parsed.users as Record<UserSecret, string>,
        tlsPem: typeof parsed.tlsPem === "string" ? parsed.tlsPem : "",
      };
    }
  }
  const empty = Object.fromEntries(USER_SECRETS.map((key) => [key, ""])) as Record<UserSecret, string>;
  if (!create) return { valkeyPassword: "", sentinelPassword: "", users: empty, tlsPem: "" };
  const fresh = (): string => crypto.randomBytes(24).toString("hex");
  const secrets: LayoutSecrets = {
    valkeyPassword: fresh(),
    sentinelPassword: fresh(),
    users: Object.fromEntries(USER_SECRETS.map((key) => [key, fresh()])) as Record<UserSecret, string>,
    tlsPem: "",
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return secrets;
}

export interface LabLayoutOptions {
  /** Default: `labDir()`. */
  readonly dir?: string;
  /** Default: whether this process can bind 80/443. */
  readonly privilegedPorts?: boolean;
  /** Default: read or generate `<dir>/secrets.json`. */
  readonly secrets?: LayoutSecrets;
  /** Default true: generate `<dir>/secrets.json` when it is missing (false: empty secrets instead). */
  readonly createSecrets?: boolean;
  /** The nodes and roles. Default: the stack's (cloud-init/topology.ts). */
  readonly topology?: Topology;
}

/** The lab's `Layout`. Creates `<dir>/secrets.json` the first time unless `secrets` is given. */
export function labLayout(options: LabLayoutOptions = {}): Layout {
  const dir = options.dir ?? labDir();
  const topology = options.topology ?? TOPOLOGY;
  return {
    topology,
    roots: Object.fromEntries(topology.nodes.map((n) => [n.name, path.join(dir, n.name)])),
    nodes: Object.fromEntries(
      topology.nodes.map((n) => [n.name, { privateIp: n.labAddress, loopback: n.labAddress }]),
    ),
    publicBind: nodeSpec(topology, gateNode(topology)).labAddress,
    ports: labPorts(options.privilegedPorts),
    adminCidrs: ["127.0.0.0/8"],
    sentinel: DEFAULT_SENTINEL,
    app: DEFAULT_APP,
    secrets: options.secrets ?? labSecrets(dir, options.createSecrets ?? true),
    tokenMaxmemoryMb: 256,
    messageMaxmemoryMb: 256,
    drainSeconds: LAB_DRAIN_SECONDS,
    serviceControl: SERVICE_CONTROL,
    production: false,
    monitoring: labMonitoring(),
  };
}
