/**
 * Network: VCN, internet gateway, optional NAT gateway, route tables, a gate subnet (public) and an
 * engine subnet (private behind NAT, or public without any inbound internet rule), a security list
 * that allows nothing inbound, and two network security groups holding every inbound rule.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_PORTS, Ports } from "../cloud-init/layout";
import { monitoringScrapePorts } from "../cloud-init/monitoring";
import { ROLES } from "../cloud-init/topology";

export const WORLD = "0.0.0.0/0";
/** IANA protocol number of TCP, as OCI security rules take it. */
export const TCP = "6";
/** IANA protocol number of UDP (Alertmanager's gossip). */
export const UDP = "17";

export type NsgName = "gate" | "engine";

/** One inbound TCP rule of an NSG: from a CIDR, or from the members of an NSG. */
export interface NsgRuleSpec {
  readonly nsg: NsgName;
  /** Default "tcp". */
  readonly protocol?: "tcp" | "udp";
  readonly port: number;
  readonly source:
    { readonly kind: "cidr"; readonly cidr: string } | { readonly kind: "nsg"; readonly nsg: NsgName };
  readonly description: string;
}

/**
 * Every inbound rule, least privilege (pure, so tests compare it as a set):
 * live 80/443 from anywhere to the gate only; SSH, staging and stats to the gate from `adminCidrs`;
 * the app port to the engines from the gate only; SSH to the engines from the gate only (the jump
 * host the switch and release commands go through); Valkey and Sentinel only between the three
 * nodes; the gate's message replica port from the engines; the monitoring ports only from the engines (their Prometheus and Alertmanager). Nothing
 * else comes in.
 */
export function nsgRuleSpecs(adminCidrs: readonly string[], ports: Ports = DEFAULT_PORTS): NsgRuleSpec[] {
  const cidr = (value: string) => ({ kind: "cidr" as const, cidr: value });
  const nsg = (value: NsgName) => ({ kind: "nsg" as const, nsg: value });
  const rules: NsgRuleSpec[] = [
    { nsg: "gate", port: ports.http, source: cidr(WORLD), description: "live HTTP from anywhere" },
    { nsg: "gate", port: ports.https, source: cidr(WORLD), description: "live HTTPS from anywhere" },
  ];
  for (const admin of adminCidrs) {
    rules.push(
      { nsg: "gate", port: 22, source: cidr(admin), description: `SSH from admin ${admin}` },
      { nsg: "gate", port: ports.staging, source: cidr(admin), description: `staging from admin ${admin}` },
      { nsg: "gate", port: ports.stats, source: cidr(admin), description: `stats from admin ${admin}` },
    );
  }
  for (const port of [ports.valkey, ports.sentinel]) {
    rules.push({
      nsg: "gate",
      port,
      source: nsg("engine"),
      description: `Valkey/Sentinel ${port} from engines`,
    });
  }
  // The message store's never-promoted replica: the engines' Sentinels and redis_exporter reach it
  // (it connects out to the master's Valkey port, which the engine rules below allow).
  for (const role of ["gate", "engine"] as const) {
    if (!ROLES[role].messageReplica) continue;
    rules.push({
      nsg: role,
      port: ports.replica,
      source: nsg("engine"),
      description: `message replica ${ports.replica} from engines`,
    });
  }
  rules.push(
    { nsg: "engine", port: ports.app, source: nsg("gate"), description: "app from the gate" },
    { nsg: "engine", port: 22, source: nsg("gate"), description: "SSH from the gate (jump host)" },
  );
  for (const port of [ports.valkey, ports.sentinel]) {
    rules.push(
      { nsg: "engine", port, source: nsg("gate"), description: `Valkey/Sentinel ${port} from the gate` },
      { nsg: "engine", port, source: nsg("engine"), description: `Valkey/Sentinel ${port} between engines` },
    );
  }
  // Monitoring: only the engines' Prometheus/Alertmanager reach these (cloud-init/monitoring.ts).
  for (const role of ["gate", "engine"] as const) {
    for (const m of monitoringScrapePorts(ports, ROLES[role])) {
      rules.push({
        nsg: role,
        ...(m.proto === "udp" ? { protocol: "udp" as const } : {}),
        port: m.port,
        source: nsg("engine"),
        description: `monitoring ${m.name} ${m.port}/${m.proto} from engines`,
      });
    }
  }
  return rules;
}

/** A stable resource-name suffix for a rule, derived from its content. */
export function nsgRuleSuffix(rule: NsgRuleSpec): string {
  const source =
    rule.source.kind === "nsg"
      ? `from-${rule.source.nsg}`
      : rule.source.cidr === WORLD
        ? "from-world"
        : `from-${rule.source.cidr.replace(/[./:]/g, "-")}`;
  return `${rule.nsg}-${rule.port}${rule.protocol === "udp" ? "-udp" : ""}-${source}`;
}

export interface NetworkArgs {
  /** Compartment OCID for every network resource. Required, no default. */
  readonly compartmentId: pulumi.Input<string>;
  /** VCN CIDR. Default (from config): 10.0.0.0/16. */
  readonly vcnCidr: string;
  /** Public subnet of the gate. Default (from config): 10.0.1.0/24. */
  readonly gateSubnetCidr: string;
  /** Subnet of the engines. Default (from config): 10.0.2.0/24. */
  readonly engineSubnetCidr: string;
  /** CIDRs allowed to SSH, staging and stats on the gate. Required, no default. */
  readonly adminCidrs: readonly string[];
  /** true: private engine subnet behind a NAT gateway; false: public engine subnet, no inbound internet rule. Default true. */
  readonly natGateway?: boolean;
  /** Ports of the layout. Default DEFAULT_PORTS (cloud-init/layout.ts). */
  readonly ports?: Ports;
  /** DNS label of the VCN. Default "yquant". */
  readonly dnsLabel?: string;
}

export class Network extends pulumi.ComponentResource {
  public readonly vcnId: pulumi.Output<string>;
  public readonly gateSubnetId: pulumi.Output<string>;
  public readonly engineSubnetId: pulumi.Output<string>;
  public readonly gateNsgId: pulumi.Output<string>;
  public readonly engineNsgId: pulumi.Output<string>;
  /** Whether the engines have public IPs (only when there is no NAT gateway). */
  public readonly enginePublicIps: boolean;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:network:Network", name, {}, opts);
    const parent = { parent: this };
    const natGateway = args.natGateway ?? true;
    const compartmentId = args.compartmentId;

    const vcn = new oci.core.Vcn(
      `${name}-vcn`,
      {
        compartmentId,
        cidrBlocks: [args.vcnCidr],
        displayName: `${name}-vcn`,
        dnsLabel: args.dnsLabel ?? "yquant",
      },
      parent,
    );
    const igw = new oci.core.InternetGateway(
      `${name}-igw`,
      { compartmentId, vcnId: vcn.id, enabled: true, displayName: `${name}-igw` },
      parent,
    );
    const publicRoutes = new oci.core.RouteTable(
      `${name}-public-rt`,
      {
        compartmentId,
        vcnId: vcn.id,
        displayName: `${name}-public-rt`,
        routeRules: [{ destination: WORLD, destinationType: "CIDR_BLOCK", networkEntityId: igw.id }],
      },
      parent,
    );
    let engineRoutes = publicRoutes;
    if (natGateway) {
      const nat = new oci.core.NatGateway(
        `${name}-nat`,
        { compartmentId, vcnId: vcn.id, displayName: `${name}-nat` },
        parent,
      );
      engineRoutes = new oci.core.RouteTable(
        `${name}-private-rt`,
        {
          compartmentId,
          vcnId: vcn.id,
          displayName: `${name}-private-rt`,
          routeRules: [{ destination: WORLD, destinationType: "CIDR_BLOCK", networkEntityId: nat.id }],
        },
        parent,
      );
    }
    // Nothing inbound at the subnet level: every inbound rule lives in the NSGs below.
    const securityList = new oci.core.SecurityList(
      `${name}-sl`,
      {
        compartmentId,
        vcnId: vcn.id,
        displayName: `${name}-sl`,
        ingressSecurityRules: [],
        egressSecurityRules: [{ destination: WORLD, destinationType: "CIDR_BLOCK", protocol: "all" }],
      },
      parent,
    );
    const gateSubnet = new oci.core.Subnet(
      `${name}-gate-subnet`,
      {
        compartmentId,
        vcnId: vcn.id,
        cidrBlock: args.gateSubnetCidr,
        displayName: `${name}-gate-subnet`,
        dnsLabel: "gate",
        prohibitPublicIpOnVnic: false,
        prohibitInternetIngress: false,
        routeTableId: publicRoutes.id,
        securityListIds: [securityList.id],
      },
      parent,
    );
    const engineSubnet = new oci.core.Subnet(
      `${name}-engine-subnet`,
      {
        compartmentId,
        vcnId: vcn.id,
        cidrBlock: args.engineSubnetCidr,
        displayName: `${name}-engine-subnet`,
        dnsLabel: "engines",
        prohibitPublicIpOnVnic: natGateway,
        prohibitInternetIngress: natGateway,
        routeTableId: engineRoutes.id,
        securityListIds: [securityList.id],
      },
      parent,
    );
    const nsgs: Record<NsgName, oci.core.NetworkSecurityGroup> = {
      gate: new oci.core.NetworkSecurityGroup(
        `${name}-gate-nsg`,
        { compartmentId, vcnId: vcn.id, displayName: `${name}-gate-nsg` },
        parent,
      ),
      engine: new oci.core.NetworkSecurityGroup(
        `${name}-engine-nsg`,
        { compartmentId, vcnId: vcn.id, displayName: `${name}-engine-nsg` },
        parent,
      ),
    };
    for (const rule of nsgRuleSpecs(args.adminCidrs, args.ports ?? DEFAULT_PORTS)) {
      const source =
        rule.source.kind === "cidr"
          ? { source: rule.source.cidr, sourceType: "CIDR_BLOCK" }
          : { source: nsgs[rule.source.nsg].id, sourceType: "NETWORK_SECURITY_GROUP" };
      new oci.core.NetworkSecurityGroupSecurityRule(
        `${name}-${nsgRuleSuffix(rule)}`,
        {
          networkSecurityGroupId: nsgs[rule.nsg].id,
          direction: "INGRESS",
          protocol: rule.protocol === "udp" ? UDP : TCP,
          stateless: false,
          description: rule.description,
          ...source,
          ...(rule.protocol === "udp"
            ? { udpOptions: { destinationPortRange: { min: rule.port, max: rule.port } } }
            : { tcpOptions: { destinationPortRange: { min: rule.port, max: rule.port } } }),
        },
        parent,
      );
    }

    this.vcnId = vcn.id;
    this.gateSubnetId = gateSubnet.id;
    this.engineSubnetId = engineSubnet.id;
    this.gateNsgId = nsgs.gate.id;
    this.engineNsgId = nsgs.engine.id;
    this.enginePublicIps = !natGateway;
    this.registerOutputs({
      vcnId: this.vcnId,
      gateSubnetId: this.gateSubnetId,
      engineSubnetId: this.engineSubnetId,
      gateNsgId: this.gateNsgId,
      engineNsgId: this.engineNsgId,
    });
  }
}
