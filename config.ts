/**
 * The one module that reads and validates the stack configuration (namespace `yquant`).
 *
 * `parseConfig(raw)` is pure: it takes the raw values (strings, numbers, booleans, lists, objects, as
 * Pulumi config or a YAML file gives them), checks every one of them and returns one frozen
 * `StackConfig`, or throws a `ConfigError` that names the field as `yquant:<key>` and says what is
 * allowed. `loadConfig()` reads `pulumi.Config("yquant")` and calls it. The program calls
 * `loadConfig()` before it constructs any resource, so bad input never creates anything.
 *
 * The table of keys, defaults and rules is `docs/configuration.md`; scalars are declared in
 * `Pulumi.yaml` as well, and a test keeps the two in step.
 */
import * as pulumi from "@pulumi/pulumi";
import { Color, NodeName, TOPOLOGY, Topology, isColor, otherColor, roleOf } from "./cloud-init/layout";
import { CostEstimate, InstanceUsage, LayoutUsage, estimateMonthlyCost } from "./cost/free-tier";

export const NAMESPACE = "yquant";

/** A value read from a secret config key. Prints as `[secret]`; `reveal()` gives the value. */
export class SecretString {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[secret]";
  }
  toJSON(): string {
    return "[secret]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[secret]";
  }
}

/** Refused configuration: the message names the field as `yquant:<key>` and the allowed values. */
export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, problem: string, allowed: string) {
    super(`${NAMESPACE}:${key}: ${problem}. Allowed: ${allowed}.`);
    this.name = "ConfigError";
    this.key = key;
  }
}

/** Defaults of every optional key (secrets that are generated when unset have none). */
export const DEFAULTS = {
  allowWorldAdminAccess: false,
  activeColor: "blue" as Color,
  availabilityDomainIndex: 0,
  vcnCidr: "10.0.0.0/16",
  gateSubnetCidr: "10.0.1.0/24",
  engineSubnetCidr: "10.0.2.0/24",
  natGateway: true,
  gateShape: "VM.Standard.E2.1.Micro",
  engineShape: "VM.Standard.A1.Flex",
  engineOcpus: 2,
  engineMemoryGbs: 12,
  bootVolumeSizeGbs: 50,
  gateImageId: "",
  engineImageId: "",
  acknowledgeCharges: false,
  tlsPem: "",
  drainSeconds: 30,
  messageMasterFollowsActive: true,
  appRepository: "",
  appBuildCommand: "",
  allowDeployToActive: false,
} as const;

export const DEFAULT_RELEASE = "placeholder";

/** Scalar keys as declared in `Pulumi.yaml`, with how `loadConfig` reads them. */
export const SCALAR_KEYS = {
  compartmentId: "string",
  sshPublicKey: "string",
  sshPrivateKey: "secret",
  allowWorldAdminAccess: "boolean",
  activeColor: "string",
  availabilityDomainIndex: "integer",
  vcnCidr: "string",
  gateSubnetCidr: "string",
  engineSubnetCidr: "string",
  natGateway: "boolean",
  gateShape: "string",
  engineShape: "string",
  engineOcpus: "integer",
  engineMemoryGbs: "integer",
  bootVolumeSizeGbs: "integer",
  gateImageId: "string",
  engineImageId: "string",
  acknowledgeCharges: "boolean",
  valkeyPassword: "secret",
  sentinelPassword: "secret",
  tlsPem: "secret",
  drainSeconds: "integer",
  messageMasterFollowsActive: "boolean",
  appRepository: "string",
  appBuildCommand: "string",
  allowDeployToActive: "boolean",
} as const;

/** Structured keys (lists and objects), read with `getObject`. */
export const STRUCTURED_KEYS = ["adminCidrs", "releases", "rebuild"] as const;

export type ScalarKey = keyof typeof SCALAR_KEYS;
export type StructuredKey = (typeof STRUCTURED_KEYS)[number];
export type ConfigKey = ScalarKey | StructuredKey;
export const CONFIG_KEYS: readonly ConfigKey[] = [
  ...(Object.keys(SCALAR_KEYS) as ScalarKey[]),
  ...STRUCTURED_KEYS,
];

/** Raw values keyed without the namespace. Values are checked, so their type is unknown. */
export type RawConfig = Readonly<Record<string, unknown>>;

/** Fixed shapes the gate may use, with their size (for the cost model). */
export const FIXED_SHAPES: Readonly<Record<string, { readonly ocpus: number; readonly memoryGbs: number }>> =
  {
    "VM.Standard.E2.1.Micro": { ocpus: 1, memoryGbs: 1 },
    "VM.Standard.E2.1": { ocpus: 1, memoryGbs: 8 },
    "VM.Standard.E2.2": { ocpus: 2, memoryGbs: 16 },
    "VM.Standard.E2.4": { ocpus: 4, memoryGbs: 32 },
    "VM.Standard.E2.8": { ocpus: 8, memoryGbs: 64 },
  };

export interface FlexShapeLimits {
  readonly ocpus: readonly [number, number];
  readonly memoryGbs: readonly [number, number];
  readonly memoryPerOcpu: readonly [number, number];
}

/** Flexible shapes the engines may use, with the ranges this project accepts. */
export const FLEX_SHAPES: Readonly<Record<string, FlexShapeLimits>> = {
  "VM.Standard.A1.Flex": { ocpus: [1, 4], memoryGbs: [1, 24], memoryPerOcpu: [1, 64] },
};

export const BOOT_VOLUME_GBS: readonly [number, number] = [50, 200];
export const DRAIN_SECONDS: readonly [number, number] = [0, 3600];
export const MIN_PASSWORD_LENGTH = 16;
export const PASSWORD_PATTERN = /^[A-Za-z0-9._~+=@%:,-]+$/;
export const RELEASE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
export const COMPARTMENT_PATTERN = /^ocid1\.(compartment|tenancy)\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]+$/;
export const IMAGE_PATTERN = /^ocid1\.image\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]+$/;
export const SSH_PUBLIC_KEY_PATTERN =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
/** Subnet prefixes: large enough for the pinned hosts .10 and .11 (OCI reserves the first two and the last). */
export const SUBNET_PREFIX: readonly [number, number] = [16, 28];
/** Admin CIDRs shorter than this count as "the world" and need `allowWorldAdminAccess`. */
export const WORLD_PREFIX_BELOW = 8;

export interface StackConfig {
  readonly compartmentId: string;
  readonly sshPublicKey: string;
  readonly sshPrivateKey: SecretString;
  readonly adminCidrs: readonly string[];
  readonly allowWorldAdminAccess: boolean;
  readonly activeColor: Color;
  /** Derived: the color that is not active. */
  readonly standbyColor: Color;
  readonly availabilityDomainIndex: number;
  readonly vcnCidr: string;
  readonly gateSubnetCidr: string;
  readonly engineSubnetCidr: string;
  /** Derived: each node's host offset in its subnet (cloud-init/topology.ts). */
  readonly privateIps: Readonly<Record<NodeName, string>>;
  readonly natGateway: boolean;
  readonly gateShape: string;
  /** Derived from the fixed gate shape. */
  readonly gateOcpus: number;
  /** Derived from the fixed gate shape. */
  readonly gateMemoryGbs: number;
  readonly engineShape: string;
  readonly engineOcpus: number;
  readonly engineMemoryGbs: number;
  readonly bootVolumeSizeGbs: number;
  readonly gateImageId: string;
  readonly engineImageId: string;
  readonly acknowledgeCharges: boolean;
  /** Undefined: generated by `@pulumi/random`. */
  readonly valkeyPassword: SecretString | undefined;
  /** Undefined: generated by `@pulumi/random`. */
  readonly sentinelPassword: SecretString | undefined;
  /** Empty: self-signed at first boot. */
  readonly tlsPem: SecretString;
  readonly drainSeconds: number;
  readonly messageMasterFollowsActive: boolean;
  readonly appRepository: string;
  readonly appBuildCommand: string;
  readonly releases: Readonly<Record<Color, string>>;
  readonly allowDeployToActive: boolean;
  readonly rebuild: Readonly<Record<Color, number>>;
  /** The cost model's estimate for this layout. */
  readonly costEstimate: CostEstimate;
}

// ---------------------------------------------------------------------------------------------
// IPv4 and CIDR arithmetic (pure)

export interface Cidr {
  readonly network: number;
  readonly prefix: number;
}

/** Parses a dotted quad (no leading zeros); undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses `a.b.c.d/n`; a string describing the problem when it is not a network address in CIDR form. */
export function parseCidr(text: string): Cidr | string {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  const address = match ? parseIpv4(match[1] ?? "") : undefined;
  const prefix = match ? Number(match[2]) : NaN;
  if (!match || address === undefined || !(prefix >= 0 && prefix <= 32)) {
    return `${JSON.stringify(text)} is not an IPv4 CIDR`;
  }
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) {
    return `${text} has host bits set (the network is ${formatIpv4(network)}/${prefix})`;
  }
  return { network, prefix };
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefix >= outer.prefix &&
    inner.network >= outer.network &&
    inner.network + cidrSize(inner) <= outer.network + cidrSize(outer)
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

/** The address `offset` hosts into `cidr`. */
export function hostAddress(cidr: Cidr, offset: number): string {
  return formatIpv4(cidr.network + offset);
}

// ---------------------------------------------------------------------------------------------
// Value readers: each throws a ConfigError naming the key

function present(raw: RawConfig, key: ConfigKey): unknown {
  const value = raw[key];
  return value === undefined || value === null ? undefined : value;
}

function readString(raw: RawConfig, key: ConfigKey, fallback?: string): string {
  const value = present(raw, key);
  if (value === undefined || (value === "" && fallback === undefined)) {
    if (fallback === undefined) {
      throw new ConfigError(key, "a value is required but none is set", describeRequired(key));
    }
    return fallback;
  }
  if (typeof value !== "string") {
    throw new ConfigError(key, `must be a string (got ${typeof value})`, describeRequired(key));
  }
  return value;
}

function readBoolean(raw: RawConfig, key: ConfigKey, fallback: boolean): boolean {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ConfigError(key, `${JSON.stringify(value)} is not a boolean`, "true or false");
}

function readInteger(
  raw: RawConfig,
  key: ConfigKey,
  fallback: number,
  [min, max]: readonly [number, number],
  context = "",
): number {
  const value = present(raw, key);
  const number = value === undefined ? fallback : typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) {
    throw new ConfigError(
      key,
      `${JSON.stringify(value)} is not an integer`,
      `an integer from ${min} to ${max}`,
    );
  }
  if (number < min || number > max) {
    throw new ConfigError(key, `${number} is out of range${context}`, `an integer from ${min} to ${max}`);
  }
  return number;
}

function describeRequired(key: ConfigKey): string {
  switch (key) {
    case "compartmentId":
      return "a compartment or tenancy OCID (ocid1.compartment.… or ocid1.tenancy.…)";
    case "sshPublicKey":
      return "an OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa-sha2-…)";
    case "sshPrivateKey":
      return "a PEM or OpenSSH private key, set with `pulumi config set --secret sshPrivateKey < key`";
    default:
      return "a string";
  }
}

function readSecret(raw: RawConfig, key: ScalarKey): string | undefined {
  const value = present(raw, key);
  if (value === undefined) return undefined;
  if (value instanceof SecretString) return value.reveal();
  if (typeof value !== "string") {
    throw new ConfigError(key, `must be a string (got ${typeof value})`, "a string set with --secret");
  }
  return value;
}

function readPassword(raw: RawConfig, key: "valkeyPassword" | "sentinelPassword"): SecretString | undefined {
  const value = readSecret(raw, key);
  if (value === undefined || value === "") return undefined;
  if (value.length < MIN_PASSWORD_LENGTH || !PASSWORD_PATTERN.test(value)) {
    const problem =
      value.length < MIN_PASSWORD_LENGTH
        ? `the value has ${value.length} characters`
        : "the value has characters outside the allowed set";
    throw new ConfigError(
      key,
      problem,
      `at least ${MIN_PASSWORD_LENGTH} characters from A-Z a-z 0-9 . _ ~ + = @ % : , - (or unset to generate one)`,
    );
  }
  return new SecretString(value);
}

function quoteList(values: readonly string[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length <= 1 ? (quoted[0] ?? "") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}

function readCidr(raw: RawConfig, key: ConfigKey, fallback: string): Cidr {
  const text = readString(raw, key, fallback);
  const cidr = parseCidr(text);
  if (typeof cidr === "string") {
    throw new ConfigError(key, cidr, "an IPv4 network in CIDR form, e.g. 10.0.0.0/16");
  }
  return cidr;
}

function readNetwork(
  raw: RawConfig,
  topology: Topology,
): Pick<StackConfig, "vcnCidr" | "gateSubnetCidr" | "engineSubnetCidr" | "privateIps"> {
  const vcn = readCidr(raw, "vcnCidr", DEFAULTS.vcnCidr);
  const vcnText = `${formatIpv4(vcn.network)}/${vcn.prefix}`;
  if (vcn.prefix < SUBNET_PREFIX[0] || vcn.prefix > SUBNET_PREFIX[1]) {
    throw new ConfigError(
      "vcnCidr",
      `${vcnText} has prefix /${vcn.prefix}`,
      `a prefix from /${SUBNET_PREFIX[0]} to /${SUBNET_PREFIX[1]}`,
    );
  }
  const gate = readCidr(raw, "gateSubnetCidr", DEFAULTS.gateSubnetCidr);
  const engine = readCidr(raw, "engineSubnetCidr", DEFAULTS.engineSubnetCidr);
  const subnetRule = `a subnet of ${vcnText} with a prefix from /${Math.max(vcn.prefix, SUBNET_PREFIX[0])} to /${SUBNET_PREFIX[1]}`;
  for (const [key, cidr] of [
    ["gateSubnetCidr", gate],
    ["engineSubnetCidr", engine],
  ] as const) {
    const text = `${formatIpv4(cidr.network)}/${cidr.prefix}`;
    if (!cidrContains(vcn, cidr)) {
      throw new ConfigError(key, `${text} is not inside yquant:vcnCidr ${vcnText}`, subnetRule);
    }
    if (cidr.prefix > SUBNET_PREFIX[1]) {
      throw new ConfigError(key, `${text} is too small for the pinned hosts .10 and .11`, subnetRule);
    }
  }
  const gateText = `${formatIpv4(gate.network)}/${gate.prefix}`;
  const engineText = `${formatIpv4(engine.network)}/${engine.prefix}`;
  if (cidrsOverlap(gate, engine)) {
    throw new ConfigError(
      "engineSubnetCidr",
      `${engineText} overlaps yquant:gateSubnetCidr ${gateText}`,
      `a subnet of ${vcnText} that does not overlap ${gateText}`,
    );
  }
  return {
    vcnCidr: vcnText,
    gateSubnetCidr: gateText,
    engineSubnetCidr: engineText,
    privateIps: Object.fromEntries(
      topology.nodes.map((n) => [n.name, hostAddress({ gate, engine }[n.subnet], n.hostOffset)]),
    ),
  };
}

function readAdminCidrs(raw: RawConfig, allowWorld: boolean): string[] {
  const value = present(raw, "adminCidrs");
  const allowed = 'a non-empty list of IPv4 CIDRs, e.g. ["203.0.113.7/32"]';
  if (value === undefined) {
    throw new ConfigError("adminCidrs", "a value is required but none is set", allowed);
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError("adminCidrs", `${JSON.stringify(value)} is not a non-empty list`, allowed);
  }
  const seen = new Set<string>();
  return value.map((item: unknown) => {
    if (typeof item !== "string") {
      throw new ConfigError("adminCidrs", `${JSON.stringify(item)} is not a string`, allowed);
    }
    const worldRule = `CIDRs of /${WORLD_PREFIX_BELOW} or longer, or set yquant:allowWorldAdminAccess to true`;
    if (item.includes(":")) {
      if (item === "::/0" && !allowWorld) {
        throw new ConfigError(
          "adminCidrs",
          "::/0 opens SSH, staging and stats to the whole internet",
          worldRule,
        );
      }
      throw new ConfigError("adminCidrs", `${item} is IPv6 and the VCN has no IPv6`, allowed);
    }
    const cidr = parseCidr(item);
    if (typeof cidr === "string") throw new ConfigError("adminCidrs", cidr, allowed);
    if (cidr.prefix < WORLD_PREFIX_BELOW && !allowWorld) {
      throw new ConfigError(
        "adminCidrs",
        `${item} opens SSH, staging and stats to the whole internet`,
        worldRule,
      );
    }
    if (seen.has(item)) throw new ConfigError("adminCidrs", `${item} is listed twice`, allowed);
    seen.add(item);
    return item;
  });
}

function readShapes(
  raw: RawConfig,
): Pick<
  StackConfig,
  "gateShape" | "gateOcpus" | "gateMemoryGbs" | "engineShape" | "engineOcpus" | "engineMemoryGbs"
> {
  const gateShape = readString(raw, "gateShape", DEFAULTS.gateShape);
  const gate = FIXED_SHAPES[gateShape];
  if (!gate) {
    throw new ConfigError(
      "gateShape",
      `${JSON.stringify(gateShape)} is not a known fixed shape`,
      quoteList(Object.keys(FIXED_SHAPES)),
    );
  }
  const engineShape = readString(raw, "engineShape", DEFAULTS.engineShape);
  const limits = FLEX_SHAPES[engineShape];
  if (!limits) {
    throw new ConfigError(
      "engineShape",
      `${JSON.stringify(engineShape)} is not a supported engine shape`,
      quoteList(Object.keys(FLEX_SHAPES)),
    );
  }
  const engineOcpus = readInteger(
    raw,
    "engineOcpus",
    DEFAULTS.engineOcpus,
    limits.ocpus,
    ` for ${engineShape}`,
  );
  const memoryRange: [number, number] = [
    Math.max(limits.memoryGbs[0], engineOcpus * limits.memoryPerOcpu[0]),
    Math.min(limits.memoryGbs[1], engineOcpus * limits.memoryPerOcpu[1]),
  ];
  const engineMemoryGbs = readInteger(
    raw,
    "engineMemoryGbs",
    DEFAULTS.engineMemoryGbs,
    memoryRange,
    ` for ${engineShape} with ${engineOcpus} OCPU${engineOcpus === 1 ? "" : "s"}`,
  );
  return {
    gateShape,
    gateOcpus: gate.ocpus,
    gateMemoryGbs: gate.memoryGbs,
    engineShape,
    engineOcpus,
    engineMemoryGbs,
  };
}

function readColorMap<T>(
  raw: RawConfig,
  key: "releases" | "rebuild",
  fallback: T,
  check: (value: unknown, field: string) => T,
): Record<Color, T> {
  const value = present(raw, key);
  const result: Record<Color, T> = { blue: fallback, green: fallback };
  if (value === undefined) return result;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(
      key,
      `${JSON.stringify(value)} is not an object`,
      "an object with the keys blue and green",
    );
  }
  for (const [color, item] of Object.entries(value as Record<string, unknown>)) {
    if (!isColor(color)) {
      throw new ConfigError(`${key}.${color}`, "is not a color", "the keys blue and green");
    }
    result[color] = check(item, `${key}.${color}`);
  }
  return result;
}

function checkRelease(value: unknown, field: string): string {
  if (typeof value !== "string" || !RELEASE_PATTERN.test(value)) {
    throw new ConfigError(
      field,
      `${JSON.stringify(value)} is not a release ref`,
      `a git ref matching ${RELEASE_PATTERN.source}`,
    );
  }
  return value;
}

function checkRebuild(value: unknown, field: string): number {
  const number = typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw new ConfigError(
      field,
      `${JSON.stringify(value)} is not a rebuild counter`,
      "a non-negative integer",
    );
  }
  return number;
}

function checkPattern(key: ConfigKey, value: string, pattern: RegExp, allowed: string): string {
  if (!pattern.test(value)) throw new ConfigError(key, `${JSON.stringify(value)} is not valid`, allowed);
  return value;
}

/** What the cost model sees of a configuration: one instance per node of the topology. */
export function layoutUsage(
  config: Pick<
    StackConfig,
    "gateShape" | "gateOcpus" | "gateMemoryGbs" | "engineShape" | "engineOcpus" | "engineMemoryGbs"
  > &
    Pick<StackConfig, "bootVolumeSizeGbs" | "natGateway">,
  topology: Topology = TOPOLOGY,
): LayoutUsage {
  const instance = (node: NodeName): InstanceUsage =>
    roleOf(topology, node).sizing === "gate"
      ? {
          node,
          shape: config.gateShape,
          ocpus: config.gateOcpus,
          memoryGbs: config.gateMemoryGbs,
          bootVolumeGbs: config.bootVolumeSizeGbs,
        }
      : {
          node,
          shape: config.engineShape,
          ocpus: config.engineOcpus,
          memoryGbs: config.engineMemoryGbs,
          bootVolumeGbs: config.bootVolumeSizeGbs,
        };
  return {
    instances: topology.nodes.map((n) => instance(n.name)),
    reservedPublicIps: topology.nodes.filter((n) => roleOf(topology, n.name).publicIp === "reserved").length,
    natGateways: config.natGateway ? 1 : 0,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof SecretString) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** Validates raw configuration (keys without the `yquant:` namespace) into one frozen StackConfig. */
export function parseConfig(raw: RawConfig, topology: Topology = TOPOLOGY): StackConfig {
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(key, "is not a known setting", `one of ${CONFIG_KEYS.join(", ")}`);
    }
  }
  const compartmentId = checkPattern(
    "compartmentId",
    readString(raw, "compartmentId"),
    COMPARTMENT_PATTERN,
    describeRequired("compartmentId"),
  );
  const sshPublicKey = readString(raw, "sshPublicKey").trim();
  for (const line of sshPublicKey.split("\n")) {
    checkPattern("sshPublicKey", line.trim(), SSH_PUBLIC_KEY_PATTERN, describeRequired("sshPublicKey"));
  }
  const privateKey = readSecret(raw, "sshPrivateKey");
  if (privateKey === undefined || privateKey === "") {
    throw new ConfigError(
      "sshPrivateKey",
      "a value is required but none is set",
      describeRequired("sshPrivateKey"),
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
    throw new ConfigError(
      "sshPrivateKey",
      "the value is not a private key",
      describeRequired("sshPrivateKey"),
    );
  }
  const allowWorldAdminAccess = readBoolean(raw, "allowWorldAdminAccess", DEFAULTS.allowWorldAdminAccess);
  const adminCidrs = readAdminCidrs(raw, allowWorldAdminAccess);
  const color = readString(raw, "activeColor", DEFAULTS.activeColor);
  if (!isColor(color)) {
    throw new ConfigError(
      "activeColor",
      `${JSON.stringify(color)} is not a color`,
      quoteList(["blue", "green"]),
    );
  }
  const availabilityDomainIndex = readInteger(
    raw,
    "availabilityDomainIndex",
    DEFAULTS.availabilityDomainIndex,
    [0, 2],
  );
  const network = readNetwork(raw, topology);
  const natGateway = readBoolean(raw, "natGateway", DEFAULTS.natGateway);
  const shapes = readShapes(raw);
  const bootVolumeSizeGbs = readInteger(
    raw,
    "bootVolumeSizeGbs",
    DEFAULTS.bootVolumeSizeGbs,
    BOOT_VOLUME_GBS,
  );
  const imageRule = "empty (look up Canonical Ubuntu 24.04) or an image OCID (ocid1.image.…)";
  const gateImageId = readString(raw, "gateImageId", DEFAULTS.gateImageId);
  const engineImageId = readString(raw, "engineImageId", DEFAULTS.engineImageId);
  if (gateImageId !== "") checkPattern("gateImageId", gateImageId, IMAGE_PATTERN, imageRule);
  if (engineImageId !== "") checkPattern("engineImageId", engineImageId, IMAGE_PATTERN, imageRule);
  const tlsPem = readSecret(raw, "tlsPem") ?? DEFAULTS.tlsPem;
  if (tlsPem !== "" && !(tlsPem.includes("-----BEGIN CERTIFICATE-----") && /PRIVATE KEY-----/.test(tlsPem))) {
    throw new ConfigError(
      "tlsPem",
      "the value does not hold both a certificate and a private key",
      "empty (self-signed at first boot) or a PEM with the certificate chain and the private key",
    );
  }
  const appRepository = readString(raw, "appRepository", DEFAULTS.appRepository);
  if (appRepository !== "") {
    checkPattern(
      "appRepository",
      appRepository,
      /^(https:\/\/|ssh:\/\/|git@)[^\s'"`$\\]+$/,
      "empty (the placeholder app) or a git URL (https://, ssh:// or git@)",
    );
  }
  const appBuildCommand = readString(raw, "appBuildCommand", DEFAULTS.appBuildCommand);
  if (/[\r\n]/.test(appBuildCommand)) {
    throw new ConfigError("appBuildCommand", "the value has a line break", "one line of shell, or empty");
  }
  const config: Omit<StackConfig, "costEstimate"> = {
    compartmentId,
    sshPublicKey,
    sshPrivateKey: new SecretString(privateKey),
    adminCidrs,
    allowWorldAdminAccess,
    activeColor: color,
    standbyColor: otherColor(color),
    availabilityDomainIndex,
    ...network,
    natGateway,
    ...shapes,
    bootVolumeSizeGbs,
    gateImageId,
    engineImageId,
    acknowledgeCharges: readBoolean(raw, "acknowledgeCharges", DEFAULTS.acknowledgeCharges),
    valkeyPassword: readPassword(raw, "valkeyPassword"),
    sentinelPassword: readPassword(raw, "sentinelPassword"),
    tlsPem: new SecretString(tlsPem),
    drainSeconds: readInteger(raw, "drainSeconds", DEFAULTS.drainSeconds, DRAIN_SECONDS),
    messageMasterFollowsActive: readBoolean(
      raw,
      "messageMasterFollowsActive",
      DEFAULTS.messageMasterFollowsActive,
    ),
    appRepository,
    appBuildCommand,
    releases: readColorMap(raw, "releases", DEFAULT_RELEASE, checkRelease),
    allowDeployToActive: readBoolean(raw, "allowDeployToActive", DEFAULTS.allowDeployToActive),
    rebuild: readColorMap(raw, "rebuild", 0, checkRebuild),
  };
  const costEstimate = estimateMonthlyCost(layoutUsage(config, topology));
  if (!costEstimate.withinFreeTier && !config.acknowledgeCharges) {
    throw new ConfigError(
      "acknowledgeCharges",
      `the layout is estimated at $${costEstimate.monthlyUsd.toFixed(2)}/month beyond the Always Free allowance (${costEstimate.overages.join("; ")})`,
      "true to accept the charges, or a layout within the Always Free allowance",
    );
  }
  return deepFreeze({ ...config, costEstimate });
}

/** Reads `pulumi.Config("yquant")` and validates it with `parseConfig`. Call it before any resource. */
export function loadConfig(topology: Topology = TOPOLOGY): StackConfig {
  const config = new pulumi.Config(NAMESPACE);
  const raw: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(SCALAR_KEYS)) {
    switch (kind) {
      case "string":
        raw[key] = config.get(key);
        break;
      case "boolean":
        raw[key] = config.getBoolean(key);
        break;
      case "integer":
        raw[key] = config.getNumber(key);
        break;
      case "secret":
        // Read in-process to validate before anything is created; it is wrapped in SecretString here
        // and becomes a Pulumi secret (pulumi.secret) in components/secrets.ts, as getSecret would.
        raw[key] = config.get(key);
        break;
    }
  }
  for (const key of STRUCTURED_KEYS) raw[key] = config.getObject<unknown>(key);
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    const [namespace, key] = fullKey.split(":");
    if (namespace === NAMESPACE && key !== undefined && !(key in raw)) raw[key] = "(set)";
  }
  return parseConfig(raw, topology);
}
