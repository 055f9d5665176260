/** The port policies: what world-facing ingress rules may open. */
import type {
  PolicyConfigSchema,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
} from "@pulumi/policy";
import { DEFAULT_PORTS } from "../cloud-init/layout";
import { MONITORING_PORTS } from "../cloud-init/monitoring";
import { config } from "./common";
import { covers, describePorts, worldIngressRules } from "./ingress";

/**
 * Ports that must never face the internet: SSH, staging, Valkey, the message replica, Sentinel,
 * HAProxy stats (cloud-init/layout.ts's DEFAULT_PORTS), and
 * monitoring's (Prometheus 9090, Alertmanager 9093 and its gossip 9094, node_exporter 9100,
 * redis_exporter 9121: cloud-init/monitoring.ts's MONITORING_PORTS, the one list of them).
 */
export const DEFAULT_FORBIDDEN_PORTS: readonly number[] = [
  22,
  DEFAULT_PORTS.staging,
  DEFAULT_PORTS.valkey,
  DEFAULT_PORTS.replica,
  DEFAULT_PORTS.sentinel,
  DEFAULT_PORTS.stats,
  ...Object.values(MONITORING_PORTS),
];
/** The only TCP ports that may be open to 0.0.0.0/0 or ::/0. */
export const DEFAULT_PUBLIC_PORTS: readonly number[] = [80, 443];

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
    `No NSG rule or security list ingress rule opens ${DEFAULT_FORBIDDEN_PORTS.join(", ")} to 0.0.0.0/0 or ::/0 ` +
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
            "SSH, staging, Valkey, Sentinel, stats and monitoring ports must be limited to adminCidrs or the VCN",
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
