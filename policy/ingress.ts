/**
 * Ingress rules as the port policies see them: an NSG rule or a security list's rules reduced to
 * source, protocol and destination port range, and which of them face the whole internet.
 */
import type { ResourceValidationArgs } from "@pulumi/policy";
import { TYPES, asRecord, isType, label } from "./common";

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

export function covers(rule: IngressRule, port: number): boolean {
  if (rule.protocol === "all" || rule.ports === undefined) return true;
  return rule.ports.min <= port && port <= rule.ports.max;
}

/** The world-facing ingress rules of a resource (NSG rule or security list). */
export function worldIngressRules(args: ResourceValidationArgs): IngressRule[] {
  let rules: IngressRule[] = [];
  if (isType(args.type, TYPES.nsgRule)) {
    const rule = nsgIngressRule(args.name, args.props);
    rules = rule === undefined ? [] : [rule];
  } else if (isType(args.type, TYPES.securityList)) {
    rules = securityListIngressRules(label(args), args.props);
  }
  return rules.filter((r) => isWorld(r.source, r.sourceType) && carriesPorts(r.protocol));
}
