/**
 * The one fixture set of the tests: the config values (the secret ones are scanned for in every
 * output), the config as `parseConfig`, the program and the pipeline take it, the resource type
 * tokens and the OCI resources the whole program registers, the Layouts the render tests use, and
 * the builders that run code under the one mock runtime (tools/preview/mock-program.ts): the whole
 * program (`runProgram`, `record`) or components alone (`build`). Config is set before the program
 * is imported, and the module registry is reset so the program can run more than once in a file.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { vi } from "vitest";
import { Layout } from "../cloud-init/layout";
import { sampleLayout, sampleUserPasswords } from "../tools/sample-layout";
import { TOPOLOGY, Topology } from "../cloud-init/topology";
import { ProgramRecording, RecordedInvoke, recordProgram } from "../tools/preview/mock-program";

export { SECRET_SIG, SECRET_SIG_KEY, isSecretMarker, unwrapSecrets } from "../tools/preview/mock-program";
export {
  AVAILABILITY_DOMAINS,
  GATE_PRIMARY_PRIVATE_IP_ID,
  GATE_PUBLIC_IP,
  imageIdFor,
} from "../tools/preview/mock-provider";
export type { ProgramRecording, RecordedInvoke } from "../tools/preview/mock-program";

// ---------------------------------------------------------------------------------------------
// Config values

export const VALKEY_PASSWORD = "TestValkeyPassword0123456789abc";
export const SENTINEL_PASSWORD = "TestSentinelPassword0123456789xy";
export const SSH_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTONLYNOTAREALKEYTESTONLYNOTAREALKEY\n-----END OPENSSH PRIVATE KEY-----\n";
export const SSH_PUBLIC_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTONLYTESTONLYTESTONLYTESTONLY test@example";
export const COMPARTMENT = "ocid1.compartment.oc1..aaaatestcompartment";
export const ADMIN_CIDR = "198.51.100.7/32";

/** A certificate and key pair from openssl (`req -x509`, P-256), PEM text: certificate first. */
export function makeTlsPem(commonName: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yq-tls-"));
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
        "-keyout",
        key,
        "-out",
        cert,
        "-subj",
        `/CN=${commonName}`,
        "-days",
        "2",
      ]),
      { stdio: "ignore", timeout: 10_000 },
    );
    return fs.readFileSync(cert, "utf8") + fs.readFileSync(key, "utf8");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A throwaway self-signed certificate and its key, made by openssl for this test run. */
export const TLS_PEM = makeTlsPem("yquant-test");

export const SECRET_VALUES = [VALKEY_PASSWORD, SENTINEL_PASSWORD, SSH_PRIVATE_KEY, TLS_PEM];

/*
 * The fixtures set acknowledgeCharges: the user's layout (two 2 OCPU / 12 GB engines) is beyond the
 * Always Free A1 allowance in the cost model. The refusal itself is tested with a mocked cost model.
 */

/** Raw config as `parseConfig` takes it (keys without the namespace). */
export function validRaw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    compartmentId: COMPARTMENT,
    sshPublicKey: SSH_PUBLIC_KEY,
    sshPrivateKey: SSH_PRIVATE_KEY,
    adminCidrs: [ADMIN_CIDR],
    acknowledgeCharges: true,
    ...overrides,
  };
}

/** Values as Pulumi passes them to the program: strings, with lists and objects as JSON. */
export function asProgramConfig(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** The stack's config as the program gets it; the passwords are left to be generated. */
export function programConfig(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...asProgramConfig(validRaw()), ...overrides };
}

/** The pipeline's config: the stack's, with both passwords, the active color, releases and counters. */
export function pipelineConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
  return asProgramConfig(
    validRaw({
      valkeyPassword: VALKEY_PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
      activeColor: "blue",
      releases: { blue: "v1.0.0", green: "v1.0.0" },
      rebuild: { blue: 0, green: 0 },
      ...overrides,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Resource types and counts

export const TYPES = {
  instance: "oci:Core/instance:Instance",
  vcn: "oci:Core/vcn:Vcn",
  subnet: "oci:Core/subnet:Subnet",
  internetGateway: "oci:Core/internetGateway:InternetGateway",
  natGateway: "oci:Core/natGateway:NatGateway",
  routeTable: "oci:Core/routeTable:RouteTable",
  securityList: "oci:Core/securityList:SecurityList",
  nsg: "oci:Core/networkSecurityGroup:NetworkSecurityGroup",
  nsgRule: "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
  publicIp: "oci:Core/publicIp:PublicIp",
  volume: "oci:Core/volume:Volume",
  volumeAttachment: "oci:Core/volumeAttachment:VolumeAttachment",
  volumeBackupPolicy: "oci:Core/volumeBackupPolicy:VolumeBackupPolicy",
  volumeBackupPolicyAssignment: "oci:Core/volumeBackupPolicyAssignment:VolumeBackupPolicyAssignment",
  command: "command:remote:Command",
  randomPassword: "random:index/randomPassword:RandomPassword",
} as const;

/** Every OCI resource type the program registers. */
export const OCI_TYPES: readonly string[] = Object.values(TYPES).filter((t) => t.startsWith("oci:"));

/** The OCI resources of the default layout (one admin CIDR, NAT gateway), by type. */
export const OCI_COUNTS: Readonly<Record<string, number>> = {
  [TYPES.instance]: 3,
  [TYPES.internetGateway]: 1,
  [TYPES.natGateway]: 1,
  [TYPES.nsg]: 2,
  // 13, and 7 for monitoring (components/network.ts: scrapes from the engine NSG).
  [TYPES.nsgRule]: 21,
  [TYPES.publicIp]: 1,
  [TYPES.routeTable]: 2,
  [TYPES.securityList]: 1,
  [TYPES.subnet]: 2,
  [TYPES.vcn]: 1,
  // The token Valkey's own volume (components/token-volume.ts), its attachment and backups.
  [TYPES.volume]: 1,
  [TYPES.volumeAttachment]: 1,
  [TYPES.volumeBackupPolicy]: 1,
  [TYPES.volumeBackupPolicyAssignment]: 1,
};

// ---------------------------------------------------------------------------------------------
// Layouts for the render tests

/** Resolved secrets for `buildCloudLayout` (stand-ins; none is a real password). */
export const LAYOUT_SECRETS = {
  valkeyPassword: "v".repeat(20),
  sentinelPassword: "s".repeat(20),
  tlsPem: "",
  users: sampleUserPasswords("t"),
};

/** The cloud-style sample Layout (roots "/", VCN addresses). */
export function cloudLayout(overrides: Partial<Layout> = {}): Layout {
  return sampleLayout(overrides);
}

/**
 * A one-machine Layout rooted under `dir`, on loopback addresses 127.0.20.<base+1..3> (never the
 * lab's 127.0.10.x), with unprivileged ports.
 */
export function localLayout(dir: string, base: number, overrides: Partial<Layout> = {}): Layout {
  const ip = (i: number): string => `127.0.20.${base + i}`;
  return sampleLayout({
    roots: { gate: path.join(dir, "gate"), blue: path.join(dir, "blue"), green: path.join(dir, "green") },
    nodes: {
      gate: { privateIp: ip(1), loopback: ip(1) },
      blue: { privateIp: ip(2), loopback: ip(2) },
      green: { privateIp: ip(3), loopback: ip(3) },
    },
    publicBind: ip(1),
    ports: {
      http: 18080,
      https: 18443,
      staging: 18081,
      stats: 18404,
      app: 15000,
      valkey: 16379,
      sentinel: 26380,
      replica: 16380,
    },
    serviceControl: "/bin/false",
    production: false,
    ...overrides,
  });
}

// ---------------------------------------------------------------------------------------------
// Builders under the mock runtime

/** Imports program.ts afresh (vitest's module registry is reset first) and runs it. */
export async function loadProgram(topology: Topology = TOPOLOGY): Promise<unknown> {
  vi.resetModules();
  return (await import("../program")).yquantStack(topology);
}

/** The pipeline's program with `overrides` on pipelineConfig, after `previous` outputs if given. */
export async function record(
  overrides: Record<string, unknown>,
  previous?: Record<string, unknown>,
  preview = false,
): Promise<ProgramRecording> {
  return recordProgram({ config: pipelineConfig(overrides), previous, load: loadProgram, preview });
}

/**
 * Records what `construct` registers, run as the only program under the mock runtime; `previous`
 * are the outputs the stack's own StackReference returns (the last deployment's). Default: none.
 */
export async function build(
  construct: () => Record<string, unknown>,
  previous?: Record<string, unknown>,
): Promise<ProgramRecording> {
  const recording = await recordProgram({ config: {}, previous, load: () => Promise.resolve(construct()) });
  if (recording.error) throw recording.error;
  return recording;
}

/**
 * What a recording registered besides the stack, in order, as `<type> <name> <- <parent>`
 * ("(root)" for none): the shape of a component's tree in one exact assert.
 */
export function registered(r: ProgramRecording): string[] {
  return r.resources
    .filter((x) => x.type !== "pulumi:pulumi:Stack")
    .map((x) => `${x.type} ${x.name} <- ${x.parent ?? "(root)"}`);
}

/**
 * A command's SSH connection to `host` as the program sets it (sshTo in bluegreen/release.ts);
 * port and perDialTimeout are @pulumi/command's defaults, filled in by its SDK.
 */
export function sshConnection(host: string): Record<string, unknown> {
  return {
    host,
    user: "ubuntu",
    privateKey: SSH_PRIVATE_KEY,
    dialErrorLimit: 30,
    perDialTimeout: 15,
    port: 22,
  };
}

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** As the runtime passed them: secret markers in place. */
  readonly inputs: Record<string, unknown>;
}

export interface RecordedOptions {
  readonly type: string;
  readonly name: string;
  readonly ignoreChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly hasParent: boolean;
}

export interface ProgramRun {
  readonly resources: RecordedResource[];
  readonly invokes: RecordedInvoke[];
  readonly options: RecordedOptions[];
  /** The stack outputs, resolved, secrets unwrapped. */
  readonly outputs: Record<string, unknown>;
  /** What the program threw while it was imported, if anything. */
  readonly error: unknown;
}

/** The program with `config` (as Pulumi passes it) and no previous deployment. */
export async function runProgram(
  config: Record<string, string>,
  topology: Topology = TOPOLOGY,
): Promise<ProgramRun> {
  const recording = await recordProgram({ config, load: () => loadProgram(topology) });
  return {
    resources: recording.resources.map(({ type, name, custom, markedInputs }) => ({
      type,
      name,
      custom,
      inputs: markedInputs,
    })),
    invokes: recording.invokes,
    options: recording.options.map(({ type, name, ignoreChanges, deleteBeforeReplace, parent }) => ({
      type,
      name,
      ignoreChanges,
      deleteBeforeReplace,
      hasParent: parent !== undefined,
    })),
    outputs: recording.outputs,
    error: recording.error,
  };
}

/** The outputs stack core exports (the pipeline adds its own). */
export const CORE_OUTPUTS = [
  "activeColor",
  "standbyColor",
  "gatePublicIp",
  "liveUrl",
  "stagingUrl",
  "privateIps",
  "instanceIds",
  "sentinels",
  "costEstimate",
];

/** Resources of one type, custom only. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.custom && r.type === type);
}

/** `{ type: count }` over every resource. */
export function countByType(run: {
  readonly resources: readonly { readonly type: string }[];
}): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
