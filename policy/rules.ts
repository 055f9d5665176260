/**
 * The guardrail rules of the yquant policy pack, one exported policy object each, so that tests can
 * call `validateResource` / `validateStack` directly.
 *
 * The resource types are the OCI provider's tokens (`__pulumiType` in @pulumi/oci 4.20.0, e.g.
 * `oci:Core/instance:Instance`); the policy sees the resource's input properties in camelCase
 * (`createVnicDetails.assignPublicIp`, `instanceOptions.areLegacyImdsEndpointsDisabled`, ...).
 * Type tokens are compared without regard to case, so `oci:core/instance:Instance` matches too.
 */
import type {
  Policies,
  PolicyConfigSchema,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

export const TYPES = {
  instance: "oci:Core/instance:Instance",
  nsgRule: "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
  securityList: "oci:Core/securityList:SecurityList",
  publicIp: "oci:Core/publicIp:PublicIp",
} as const;

/** Ports that must never face the internet: SSH, staging, Valkey, Sentinel, HAProxy stats. */
export const DEFAULT_FORBIDDEN_PORTS: readonly number[] = [22, 8080, 6379, 26379, 8404];
/** The only TCP ports that may be open to 0.0.0.0/0 or ::/0. */
export const DEFAULT_PUBLIC_PORTS: readonly number[] = [80, 443];
export const DEFAULT_ENGINE_DISPLAY_NAMES: readonly string[] = ["yq-blue", "yq-green"];
export const DEFAULT_GATE_DISPLAY_NAMES: readonly string[] = ["yq-gate"];
export const DEFAULT_SHAPE_LIMITS = {
  allowedShapes: ["VM.Standard.E2.1.Micro", "VM.Standard.A1.Flex"],
  maxOcpus: 4,
  maxMemoryGbs: 24,
} as const;

export function isType(actual: string, expected: string): boolean {
  return actual.toLowerCase() === expected.toLowerCase();
}

/** The name a message uses for a resource: its displayName, or its Pulumi name. */
function label(args: { name: string; props: Record<string, unknown> }): string {
  const displayName = args.props["displayName"];
  return typeof displayName === "string" && displayName !== "" ? displayName : args.name;
}

function isTrue(value: unknown): boolean {
  return value === true || (typeof value === "string" && value.toLowerCase() === "true");
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
}

function config<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  const given = (args.getConfig<Partial<T>>() ?? {}) as Partial<T>;
  const merged = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as T;
}

// ---------------------------------------------------------------------------------------------
// Engines and public IPs

export interface EngineConfig {
  /** displayName values that mark an engine instance (the program names instances by hostname). */
  engineDisplayNames: readonly string[];
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  engineDisplayNames: DEFAULT_ENGINE_DISPLAY_NAMES,
};

export function isEngine(props: Record<string, unknown>, cfg: EngineConfig = DEFAULT_ENGINE_CONFIG): boolean {
  const displayName = props["displayName"];
  return typeof displayName === "string" && cfg.engineDisplayNames.includes(displayName);
}

export const noPublicIpOnEngines: ResourceValidationPolicy = {
  name: "no-public-ip-on-engines",
  description:
    "Engine instances (yq-blue, yq-green) have no public IP: createVnicDetails.assignPublicIp is never true.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      engineDisplayNames: {
        type: "array",
        items: { type: "string" },
        default: [...DEFAULT_ENGINE_DISPLAY_NAMES],
      },
    },
  },
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!isType(args.type, TYPES.instance)) return;
    const cfg = config(args, DEFAULT_ENGINE_CONFIG);
    if (!isEngine(args.props, cfg)) return;
    const vnic = asRecord(args.props["createVnicDetails"]);
    if (vnic !== undefined && isTrue(vnic["assignPublicIp"])) {
      reportViolation(
        `engine instance "${label(args)}" sets createVnicDetails.assignPublicIp to true: ` +
          "engines must have no public IP (they reach the internet through the NAT gateway)",
      );
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Ingress rules open to the world

/** An ingress rule reduced to what the port checks need. */
export interface IngressRule {
  /** e.g. `NSG rule "gate-ssh"` or `security list "yq-public" ingress rule 2`. */
  readonly subject: string;
  readonly source: string;
  /** CIDR_BLOCK (the default when empty), SERVICE_CIDR_BLOCK or NETWORK_SECURITY_GROUP. */
  readonly sourceType: string;
  /** "tcp", "udp", "all", or the protocol number as given (ICMP and others carry no ports). */
  readonly protocol: string;
  /** Inclusive destination port range; undefined: every port. */
  readonly ports?: { readonly min: number; readonly max: number };
}

const WORLD_SOURCE_TYPES = new Set(["", "CIDR_BLOCK"]);

/** 0.0.0.0/0, ::/0, or any other CIDR with a /0 prefix. */
export function isWorld(source: string, sourceType = ""): boolean {
  if (!WORLD_SOURCE_TYPES.has(sourceType.toUpperCase())) return false;
  return /\/0+$/.test(source.trim());
}

function protocolName(protocol: unknown): string {
  const p = String(protocol ?? "").toLowerCase();
  if (p === "6" || p === "tcp") return "tcp";
  if (p === "17" || p === "udp") return "udp";
  if (p === "all") return "all";
  return p;
}

function portRange(range: unknown): { min: number; max: number } | undefined {
  const r = asRecord(range);
  if (r === undefined) return undefined;
  const min = r["min"];
  const max = r["max"];
  if (typeof min !== "number" && typeof max !== "number") return undefined;
  return {
    min: typeof min === "number" ? min : 1,
    max: typeof max === "number" ? max : 65535,
  };
}

/** The NSG rule as an IngressRule, or undefined for egress rules. */
export function nsgIngressRule(name: string, props: Record<string, unknown>): IngressRule | undefined {
  if (String(props["direction"] ?? "").toUpperCase() !== "INGRESS") return undefined;
  const protocol = protocolName(props["protocol"]);
  const options = asRecord(protocol === "udp" ? props["udpOptions"] : props["tcpOptions"]);
  const description = props["description"];
  const subject =
    typeof description === "string" && description !== ""
      ? `NSG rule "${name}" (${description})`
      : `NSG rule "${name}"`;
  return {
    subject,
    source: String(props["source"] ?? ""),
    sourceType: String(props["sourceType"] ?? ""),
    protocol,
    ports: options === undefined ? undefined : portRange(options["destinationPortRange"]),
  };
}

/** The ingress rules of a security list. */
export function securityListIngressRules(name: string, props: Record<string, unknown>): IngressRule[] {
  const rules = props["ingressSecurityRules"];
  if (!Array.isArray(rules)) return [];
  return rules.map((raw: unknown, index: number) => {
    const rule = asRecord(raw) ?? {};
    const protocol = protocolName(rule["protocol"]);
    const options = protocol === "udp" ? rule["udpOptions"] : rule["tcpOptions"];
    return {
      subject: `security list "${name}" ingress rule ${index}`,
      source: String(rule["source"] ?? ""),
      sourceType: String(rule["sourceType"] ?? ""),
      protocol,
      ports: portRange(options),
    };
  });
}

function carriesPorts(protocol: string): boolean {
  return protocol === "tcp" || protocol === "udp" || protocol === "all";
}

export function describePorts(rule: IngressRule): string {
  const proto = rule.protocol === "all" ? "all protocols" : rule.protocol.toUpperCase();
  if (rule.protocol === "all" || rule.ports === undefined) return `${proto} on every port`;
  if (rule.ports.min === rule.ports.max) return `${proto} port ${rule.ports.min}`;
  return `${proto} ports ${rule.ports.min}-${rule.ports.max}`;
}

function covers(rule: IngressRule, port: number): boolean {
  if (rule.protocol === "all" || rule.ports === undefined) return true;
  return rule.ports.min <= port && port <= rule.ports.max;
}

/** The world-facing ingress rules of a resource (NSG rule or security list). */
function worldIngressRules(args: ResourceValidationArgs): IngressRule[] {
  let rules: IngressRule[] = [];
  if (isType(args.type, TYPES.nsgRule)) {
    const rule = nsgIngressRule(args.name, args.props);
    rules = rule === undefined ? [] : [rule];
  } else if (isType(args.type, TYPES.securityList)) {
    rules = securityListIngressRules(label(args), args.props);
  }
  return rules.filter((r) => isWorld(r.source, r.sourceType) && carriesPorts(r.protocol));
}

export interface PortConfig {
  forbiddenPorts: readonly number[];
  publicPorts: readonly number[];
}

export const DEFAULT_PORT_CONFIG: PortConfig = {
  forbiddenPorts: DEFAULT_FORBIDDEN_PORTS,
  publicPorts: DEFAULT_PUBLIC_PORTS,
};

const portConfigSchema: PolicyConfigSchema = {
  properties: {
    forbiddenPorts: { type: "array", items: { type: "integer" }, default: [...DEFAULT_FORBIDDEN_PORTS] },
    publicPorts: { type: "array", items: { type: "integer" }, default: [...DEFAULT_PUBLIC_PORTS] },
  },
};

export const noAdminPortsToWorld: ResourceValidationPolicy = {
  name: "no-admin-ports-to-world",
  description:
    "No NSG rule or security list ingress rule opens 22, 8080, 6379, 26379 or 8404 to 0.0.0.0/0 or ::/0 " +
    "(port ranges that cover them, and rules with no port range, count).",
  enforcementLevel: "mandatory",
  configSchema: portConfigSchema,
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const cfg = config(args, DEFAULT_PORT_CONFIG);
    for (const rule of worldIngressRules(args)) {
      const hit = cfg.forbiddenPorts.filter((port) => covers(rule, port));
      if (hit.length > 0) {
        reportViolation(
          `${rule.subject} opens ${describePorts(rule)} to ${rule.source}, which exposes ${hit.join(", ")}: ` +
            "SSH, staging, Valkey, Sentinel and stats ports must be limited to adminCidrs or the VCN",
        );
      }
    }
  },
};

export const onlyWebPortsToWorld: ResourceValidationPolicy = {
  name: "only-web-ports-to-world",
  description: "Only TCP 80 and 443 may be open to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  configSchema: portConfigSchema,
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const cfg = config(args, DEFAULT_PORT_CONFIG);
    for (const rule of worldIngressRules(args)) {
      const allowed =
        rule.protocol === "tcp" && rule.ports !== undefined && rangeWithin(rule.ports, cfg.publicPorts);
      if (!allowed) {
        reportViolation(
          `${rule.subject} opens ${describePorts(rule)} to ${rule.source}: ` +
            `only TCP ${cfg.publicPorts.join(" and ")} may face the internet`,
        );
      }
    }
  },
};

function rangeWithin(range: { min: number; max: number }, ports: readonly number[]): boolean {
  for (let port = range.min; port <= range.max; port++) {
    if (!ports.includes(port)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Instances

export const imdsV2Only: ResourceValidationPolicy = {
  name: "imds-v2-only",
  description:
    "Every instance sets instanceOptions.areLegacyImdsEndpointsDisabled to true, so its metadata " +
    "(which carries the user data and its passwords) is served by IMDSv2 only.",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!isType(args.type, TYPES.instance)) return;
    const options = asRecord(args.props["instanceOptions"]);
    if (options === undefined || options["areLegacyImdsEndpointsDisabled"] !== true) {
      reportViolation(
        `instance "${label(args)}" must set instanceOptions.areLegacyImdsEndpointsDisabled to true ` +
          "(legacy IMDS v1 endpoints serve the user data, which carries the Valkey passwords, without a token)",
      );
    }
  },
};

export interface ShapeConfig {
  allowedShapes: readonly string[];
  maxOcpus: number;
  maxMemoryGbs: number;
}

export const instanceShapeLimits: ResourceValidationPolicy = {
  name: "instance-shape-limits",
  description:
    "Instance shapes are in allowedShapes (default VM.Standard.E2.1.Micro, VM.Standard.A1.Flex) and a " +
    "flexible shape asks for at most maxOcpus (default 4) and maxMemoryGbs (default 24) per instance.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedShapes: {
        type: "array",
        items: { type: "string" },
        default: [...DEFAULT_SHAPE_LIMITS.allowedShapes],
      },
      maxOcpus: { type: "number", default: DEFAULT_SHAPE_LIMITS.maxOcpus },
      maxMemoryGbs: { type: "number", default: DEFAULT_SHAPE_LIMITS.maxMemoryGbs },
    },
  },
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!isType(args.type, TYPES.instance)) return;
    const cfg = config<ShapeConfig>(args, DEFAULT_SHAPE_LIMITS);
    const name = label(args);
    const shape = String(args.props["shape"] ?? "");
    if (!cfg.allowedShapes.includes(shape)) {
      reportViolation(
        `instance "${name}" uses shape "${shape}"; allowed shapes: ${cfg.allowedShapes.join(", ")}`,
      );
    }
    const shapeConfig = asRecord(args.props["shapeConfig"]);
    const ocpus = shapeConfig?.["ocpus"];
    const memory = shapeConfig?.["memoryInGbs"];
    if (typeof ocpus === "number" && ocpus > cfg.maxOcpus) {
      reportViolation(
        `instance "${name}" asks for ${ocpus} OCPUs; at most ${cfg.maxOcpus} are allowed per instance`,
      );
    }
    if (typeof memory === "number" && memory > cfg.maxMemoryGbs) {
      reportViolation(
        `instance "${name}" asks for ${memory} GB of memory; at most ${cfg.maxMemoryGbs} GB are allowed per instance`,
      );
    }
  },
};

export const bootVolumeInTransitEncryption: ResourceValidationPolicy = {
  name: "boot-volume-in-transit-encryption",
  description:
    "Instances enable in-transit encryption of their boot volume (isPvEncryptionInTransitEnabled, or " +
    "launchOptions.isPvEncryptionInTransitEnabled).",
  enforcementLevel: "advisory",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!isType(args.type, TYPES.instance)) return;
    const launchOptions = asRecord(args.props["launchOptions"]);
    const enabled =
      args.props["isPvEncryptionInTransitEnabled"] === true ||
      launchOptions?.["isPvEncryptionInTransitEnabled"] === true;
    if (!enabled) {
      reportViolation(
        `instance "${label(args)}" does not enable in-transit encryption of its boot volume ` +
          "(set isPvEncryptionInTransitEnabled: true)",
      );
    }
  },
};

// ---------------------------------------------------------------------------------------------
// The gate's public IP

export const reservedGateIp: ResourceValidationPolicy = {
  name: "reserved-gate-ip",
  description:
    "Public IPs are RESERVED (they survive a replacement of the gate), and the gate takes no ephemeral " +
    "public IP through createVnicDetails.assignPublicIp.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      gateDisplayNames: {
        type: "array",
        items: { type: "string" },
        default: [...DEFAULT_GATE_DISPLAY_NAMES],
      },
    },
  },
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (isType(args.type, TYPES.publicIp)) {
      const lifetime = String(args.props["lifetime"] ?? "");
      if (lifetime.toUpperCase() !== "RESERVED") {
        reportViolation(
          `public IP "${label(args)}" has lifetime "${lifetime}": the gate's address must be RESERVED ` +
            "so that it survives a replacement of the gate",
        );
      }
      return;
    }
    if (!isType(args.type, TYPES.instance)) return;
    const cfg = config(args, { gateDisplayNames: DEFAULT_GATE_DISPLAY_NAMES });
    const displayName = args.props["displayName"];
    if (typeof displayName !== "string" || !cfg.gateDisplayNames.includes(displayName)) return;
    const vnic = asRecord(args.props["createVnicDetails"]);
    if (vnic !== undefined && isTrue(vnic["assignPublicIp"])) {
      reportViolation(
        `gate instance "${displayName}" takes an ephemeral public IP (createVnicDetails.assignPublicIp: true); ` +
          `set it to false and attach a RESERVED ${TYPES.publicIp}`,
      );
    }
  },
};

export const stackHasReservedGateIp: StackValidationPolicy = {
  name: "stack-has-reserved-gate-ip",
  description: "The stack holds a RESERVED public IP for the gate.",
  enforcementLevel: "advisory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const reserved = args.resources.filter(
      (r) => isType(r.type, TYPES.publicIp) && String(r.props["lifetime"] ?? "").toUpperCase() === "RESERVED",
    );
    if (reserved.length === 0) {
      reportViolation(
        `the stack has no RESERVED public IP (${TYPES.publicIp} with lifetime RESERVED) for the gate`,
      );
    }
  },
};

/** Every policy of the pack, mandatory first. */
export const allPolicies: Policies = [
  noPublicIpOnEngines,
  noAdminPortsToWorld,
  onlyWebPortsToWorld,
  imdsV2Only,
  instanceShapeLimits,
  bootVolumeInTransitEncryption,
  reservedGateIp,
  stackHasReservedGateIp,
];
