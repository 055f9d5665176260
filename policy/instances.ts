/** The instance policies: no public IP on the engines, IMDSv2 only, shapes within limits, boot volume encryption. */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { TOPOLOGY, nodeSpec, nodesWhere } from "../cloud-init/topology";
import { TYPES, asRecord, config, isTrue, isType, label, stringList } from "./common";

/** The engines' display names: the hostnames of the topology's app nodes (the program sets no role tag). */
export const DEFAULT_ENGINE_DISPLAY_NAMES: readonly string[] = nodesWhere(TOPOLOGY, (role) => role.app).map(
  (name) => nodeSpec(TOPOLOGY, name).hostname,
);
export const DEFAULT_SHAPE_LIMITS = {
  allowedShapes: ["VM.Standard.E2.1.Micro", "VM.Standard.A1.Flex"],
  maxOcpus: 4,
  maxMemoryGbs: 24,
} as const;

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
      engineDisplayNames: stringList(DEFAULT_ENGINE_DISPLAY_NAMES),
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
      allowedShapes: stringList(DEFAULT_SHAPE_LIMITS.allowedShapes),
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
