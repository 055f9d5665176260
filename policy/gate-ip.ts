/** The gate's public IP: RESERVED (it survives a replacement of the gate), never an ephemeral one. */
import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { TOPOLOGY, gateNode, nodeSpec } from "../cloud-init/topology";
import { TYPES, asRecord, config, isTrue, isType, label, stringList } from "./common";

/** The gate's display name: the hostname of the topology's HAProxy node. */
export const DEFAULT_GATE_DISPLAY_NAMES: readonly string[] = [
  nodeSpec(TOPOLOGY, gateNode(TOPOLOGY)).hostname,
];

export const reservedGateIp: ResourceValidationPolicy = {
  name: "reserved-gate-ip",
  description:
    "Public IPs are RESERVED (they survive a replacement of the gate), and the gate takes no ephemeral " +
    "public IP through createVnicDetails.assignPublicIp.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      gateDisplayNames: stringList(DEFAULT_GATE_DISPLAY_NAMES),
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
