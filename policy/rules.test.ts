import type {
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
} from "@pulumi/policy";
import { describe, expect, it, vi } from "vitest";
import {
  DEFAULT_ENGINE_DISPLAY_NAMES,
  DEFAULT_GATE_DISPLAY_NAMES,
  allPolicies,
  bootVolumeInTransitEncryption,
  isEngine,
  imdsV2Only,
  instanceShapeLimits,
  noAdminPortsToWorld,
  noPublicIpOnEngines,
  onlyWebPortsToWorld,
  reservedGateIp,
  stackHasReservedGateIp,
  TYPES,
} from "./rules";

/** A resource's options as the policy engine passes them: none set. */
const RESOURCE_OPTIONS: PolicyResource["opts"] = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

function resourceArgs(
  type: string,
  name: string,
  props: Record<string, unknown>,
  config: object = {},
): ResourceValidationArgs {
  return {
    type,
    name,
    props,
    urn: `urn:pulumi:prod::yquant-infra::${type}::${name}`,
    opts: RESOURCE_OPTIONS,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
}

/** Runs a resource policy on one resource and returns the messages it reported. */
async function run(
  policy: ResourceValidationPolicy,
  type: string,
  name: string,
  props: Record<string, unknown>,
  config: object = {},
): Promise<string[]> {
  const spy = vi.fn<ReportViolation>();
  const validations: ResourceValidation[] = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : policy.validateResource
      ? [policy.validateResource]
      : [];
  for (const v of validations) await v(resourceArgs(type, name, props, config), spy);
  for (const call of spy.mock.calls) expect(call[1]).toBeUndefined();
  return spy.mock.calls.map((c) => c[0]);
}

/** The instance the stack means to create for an engine, compliant with every rule. */
const engineProps = (color: "blue" | "green") => ({
  displayName: `yq-${color}`,
  shape: "VM.Standard.A1.Flex",
  shapeConfig: { ocpus: 2, memoryInGbs: 12 },
  createVnicDetails: { assignPublicIp: "false", privateIp: color === "blue" ? "10.0.2.10" : "10.0.2.11" },
  instanceOptions: { areLegacyImdsEndpointsDisabled: true },
  isPvEncryptionInTransitEnabled: true,
});
const gateProps = {
  displayName: "yq-gate",
  shape: "VM.Standard.E2.1.Micro",
  createVnicDetails: { assignPublicIp: "false", privateIp: "10.0.1.10" },
  instanceOptions: { areLegacyImdsEndpointsDisabled: true },
  launchOptions: { isPvEncryptionInTransitEnabled: true },
};

/** An NSG rule's TCP destination ports. */
const tcp = (min: number, max = min) => ({ tcpOptions: { destinationPortRange: { min, max } } });

const nsgRule = (over: Record<string, unknown>) => ({
  networkSecurityGroupId: "ocid1.networksecuritygroup.oc1..gate",
  direction: "INGRESS",
  protocol: "6",
  source: "0.0.0.0/0",
  sourceType: "CIDR_BLOCK",
  ...tcp(443),
  ...over,
});
const securityList = (rules: Record<string, unknown>[]) => ({
  compartmentId: "ocid1.compartment.oc1..x",
  vcnId: "ocid1.vcn.oc1..x",
  displayName: "yq-public",
  ingressSecurityRules: rules,
});

/** The rule's messages for an engine's instance: the compliant one with `changes`. */
const onEngine = (
  policy: ResourceValidationPolicy,
  color: "blue" | "green",
  changes: Record<string, unknown> = {},
  config: object = {},
) => run(policy, TYPES.instance, color, { ...engineProps(color), ...changes }, config);

/** The rule's messages for the gate's instance: the compliant one with `changes`. */
const onGate = (
  policy: ResourceValidationPolicy,
  changes: Record<string, unknown> = {},
  config: object = {},
) => run(policy, TYPES.instance, "gate", { ...gateProps, ...changes }, config);

/** The instances the stack means to create (both engines and the gate) pass the rule. */
async function expectCompliantInstancesPass(policy: ResourceValidationPolicy): Promise<void> {
  for (const color of ["blue", "green"] as const) expect(await onEngine(policy, color), color).toEqual([]);
  expect(await onGate(policy), "gate").toEqual([]);
}

/** The rule's messages for an NSG rule named `name`: TCP 443 from anywhere, with `changes`. */
const onNsgRule = (policy: ResourceValidationPolicy, name: string, changes: Record<string, unknown>) =>
  run(policy, TYPES.nsgRule, name, nsgRule(changes));

/** The rule's messages for a security list named `name` with these ingress rules. */
const onSecurityList = (policy: ResourceValidationPolicy, name: string, rules: Record<string, unknown>[]) =>
  run(policy, TYPES.securityList, name, securityList(rules));

describe("the pack", () => {
  it("holds eight uniquely named policies: five mandatory, three advisory", () => {
    expect(allPolicies.map((p) => [p.name, p.enforcementLevel])).toEqual([
      ["no-public-ip-on-engines", "mandatory"],
      ["no-admin-ports-to-world", "mandatory"],
      ["only-web-ports-to-world", "mandatory"],
      ["imds-v2-only", "mandatory"],
      ["instance-shape-limits", "mandatory"],
      ["boot-volume-in-transit-encryption", "advisory"],
      ["reserved-gate-ip", "advisory"],
      ["stack-has-reserved-gate-ip", "advisory"],
    ]);
  });

  it("uses the OCI provider's own type tokens", async () => {
    const oci = await import("@pulumi/oci");
    expect(TYPES).toEqual({
      instance: (oci.core.Instance as unknown as { __pulumiType: string }).__pulumiType,
      nsgRule: (oci.core.NetworkSecurityGroupSecurityRule as unknown as { __pulumiType: string })
        .__pulumiType,
      securityList: (oci.core.SecurityList as unknown as { __pulumiType: string }).__pulumiType,
      publicIp: (oci.core.PublicIp as unknown as { __pulumiType: string }).__pulumiType,
    });
  });
});

describe("no-public-ip-on-engines", () => {
  it("passes engines without a public IP, and the gate", async () => {
    expect(await onEngine(noPublicIpOnEngines, "blue")).toEqual([]);
    expect(await onEngine(noPublicIpOnEngines, "green")).toEqual([]);
    expect(await onGate(noPublicIpOnEngines, { createVnicDetails: { assignPublicIp: "true" } })).toEqual([]);
  });

  it("refuses an engine named yq-blue with assignPublicIp true (string or boolean)", async () => {
    const message =
      'engine instance "yq-blue" sets createVnicDetails.assignPublicIp to true: engines must have no public IP ' +
      "(they reach the internet through the NAT gateway)";
    expect(
      await onEngine(noPublicIpOnEngines, "blue", { createVnicDetails: { assignPublicIp: "true" } }),
    ).toEqual([message]);
    expect(
      await onEngine(noPublicIpOnEngines, "blue", { createVnicDetails: { assignPublicIp: true } }),
    ).toEqual([message]);
  });

  it("knows the engines by the hostnames the topology table gives them (the program sets no role tag)", () => {
    expect([DEFAULT_ENGINE_DISPLAY_NAMES, DEFAULT_GATE_DISPLAY_NAMES]).toEqual([
      ["yq-blue", "yq-green"],
      ["yq-gate"],
    ]);
    expect(isEngine({ displayName: "engine-x", freeformTags: { role: "engine" } })).toBe(false);
  });

  it("takes the engine names from the policy config", async () => {
    expect(
      await run(
        noPublicIpOnEngines,
        "oci:core/instance:Instance",
        "e",
        { displayName: "eng-1", createVnicDetails: { assignPublicIp: "true" } },
        { engineDisplayNames: ["eng-1"] },
      ),
    ).toEqual([
      'engine instance "eng-1" sets createVnicDetails.assignPublicIp to true: engines must have no public IP ' +
        "(they reach the internet through the NAT gateway)",
    ]);
  });
});

describe("no-admin-ports-to-world", () => {
  it("passes 443 to the world, 22 to an admin CIDR, 6379 inside the VCN and egress rules", async () => {
    expect(await onNsgRule(noAdminPortsToWorld, "gate-https", {})).toEqual([]);
    expect(
      await onNsgRule(noAdminPortsToWorld, "gate-ssh", { source: "203.0.113.7/32", ...tcp(22) }),
    ).toEqual([]);
    expect(
      await onSecurityList(noAdminPortsToWorld, "private", [
        { protocol: "6", source: "10.0.0.0/16", tcpOptions: { min: 6379, max: 6379 } },
      ]),
    ).toEqual([]);
    expect(
      await onNsgRule(noAdminPortsToWorld, "egress", {
        direction: "EGRESS",
        destination: "0.0.0.0/0",
        tcpOptions: undefined,
      }),
    ).toEqual([]);
  });

  it("refuses SSH to 0.0.0.0/0 in an NSG rule", async () => {
    expect(await onNsgRule(noAdminPortsToWorld, "gate-ssh", { ...tcp(22) })).toEqual([
      'NSG rule "gate-ssh" opens TCP port 22 to 0.0.0.0/0, which exposes 22: ' +
        "SSH, staging, Valkey, Sentinel, stats and monitoring ports must be limited to adminCidrs or the VCN",
    ]);
  });

  it("refuses each monitoring port to 0.0.0.0/0 (Prometheus, Alertmanager and its gossip, the exporters)", async () => {
    for (const port of [9090, 9093, 9094, 9100, 9121]) {
      expect(await onNsgRule(noAdminPortsToWorld, "monitoring", { ...tcp(port) })).toEqual([
        `NSG rule "monitoring" opens TCP port ${port} to 0.0.0.0/0, which exposes ${port}: ` +
          "SSH, staging, Valkey, Sentinel, stats and monitoring ports must be limited to adminCidrs or the VCN",
      ]);
    }
  });

  it("refuses a range that covers Valkey and Sentinel, to ::/0", async () => {
    expect(await onNsgRule(noAdminPortsToWorld, "wide", { source: "::/0", ...tcp(6000, 30000) })).toEqual([
      'NSG rule "wide" opens TCP ports 6000-30000 to ::/0, which exposes 8080, 6379, 6380, 26379, 8404, 9090, 9093, 9094, 9100, 9121: ' +
        "SSH, staging, Valkey, Sentinel, stats and monitoring ports must be limited to adminCidrs or the VCN",
    ]);
  });

  it("refuses a rule with no port range and a protocol 'all' rule, each in a security list", async () => {
    expect(
      await onSecurityList(noAdminPortsToWorld, "public", [
        { protocol: "6", source: "0.0.0.0/0", tcpOptions: { min: 443, max: 443 } },
        { protocol: "6", source: "0.0.0.0/0" },
        { protocol: "all", source: "0.0.0.0/0" },
        { protocol: "1", source: "0.0.0.0/0", icmpOptions: { type: 3, code: 4 } },
      ]),
    ).toEqual([
      'security list "yq-public" ingress rule 1 opens TCP on every port to 0.0.0.0/0, which exposes 22, 8080, 6379, 6380, 26379, 8404, 9090, 9093, 9094, 9100, 9121: ' +
        "SSH, staging, Valkey, Sentinel, stats and monitoring ports must be limited to adminCidrs or the VCN",
      'security list "yq-public" ingress rule 2 opens all protocols on every port to 0.0.0.0/0, which exposes 22, 8080, 6379, 6380, 26379, 8404, 9090, 9093, 9094, 9100, 9121: ' +
        "SSH, staging, Valkey, Sentinel, stats and monitoring ports must be limited to adminCidrs or the VCN",
    ]);
  });

  it("refuses an NSG rule with tcpOptions but no destination range (every port)", async () => {
    expect(await onNsgRule(noAdminPortsToWorld, "any", { tcpOptions: {} })).toEqual([
      'NSG rule "any" opens TCP on every port to 0.0.0.0/0, which exposes 22, 8080, 6379, 6380, 26379, 8404, 9090, 9093, 9094, 9100, 9121: ' +
        "SSH, staging, Valkey, Sentinel, stats and monitoring ports must be limited to adminCidrs or the VCN",
    ]);
  });
});

describe("only-web-ports-to-world", () => {
  it("passes TCP 80 and 443 to the world, and anything to a private source", async () => {
    expect(
      await onSecurityList(onlyWebPortsToWorld, "public", [
        { protocol: "6", source: "0.0.0.0/0", tcpOptions: { min: 80, max: 80 } },
        { protocol: "6", source: "0.0.0.0/0", tcpOptions: { min: 443, max: 443 } },
        { protocol: "all", source: "10.0.0.0/16" },
        { protocol: "1", source: "0.0.0.0/0", icmpOptions: { type: 3, code: 4 } },
      ]),
    ).toEqual([]);
    expect(await onNsgRule(onlyWebPortsToWorld, "https", {})).toEqual([]);
  });

  it("refuses any other port, a range between 80 and 443, and UDP 443", async () => {
    expect(await onNsgRule(onlyWebPortsToWorld, "app", { ...tcp(5000) })).toEqual([
      'NSG rule "app" opens TCP port 5000 to 0.0.0.0/0: only TCP 80 and 443 may face the internet',
    ]);
    expect(await onNsgRule(onlyWebPortsToWorld, "web-range", { ...tcp(80, 443) })).toEqual([
      'NSG rule "web-range" opens TCP ports 80-443 to 0.0.0.0/0: only TCP 80 and 443 may face the internet',
    ]);
    expect(
      await onNsgRule(onlyWebPortsToWorld, "quic", {
        protocol: "17",
        tcpOptions: undefined,
        udpOptions: { destinationPortRange: { min: 443, max: 443 } },
      }),
    ).toEqual(['NSG rule "quic" opens UDP port 443 to 0.0.0.0/0: only TCP 80 and 443 may face the internet']);
  });

  it("names the rule's description and refuses an open security list rule", async () => {
    expect(
      await onNsgRule(onlyWebPortsToWorld, "stats", {
        description: "HAProxy stats",
        ...tcp(8404),
      }),
    ).toEqual([
      'NSG rule "stats" (HAProxy stats) opens TCP port 8404 to 0.0.0.0/0: only TCP 80 and 443 may face the internet',
    ]);
    expect(await onSecurityList(onlyWebPortsToWorld, "public", [{ protocol: "17", source: "::/0" }])).toEqual(
      [
        'security list "yq-public" ingress rule 0 opens UDP on every port to ::/0: only TCP 80 and 443 may face the internet',
      ],
    );
  });
});

describe("imds-v2-only", () => {
  it("passes instances that disable the legacy endpoints", async () => {
    await expectCompliantInstancesPass(imdsV2Only);
  });

  it("refuses an instance with no instanceOptions, or with the flag false", async () => {
    const message = (name: string) =>
      `instance "${name}" must set instanceOptions.areLegacyImdsEndpointsDisabled to true ` +
      "(legacy IMDS v1 endpoints serve the user data, which carries the Valkey passwords, without a token)";
    expect(await onGate(imdsV2Only, { instanceOptions: undefined })).toEqual([message("yq-gate")]);
    expect(
      await onEngine(imdsV2Only, "green", { instanceOptions: { areLegacyImdsEndpointsDisabled: false } }),
    ).toEqual([message("yq-green")]);
    expect(await run(imdsV2Only, TYPES.instance, "nameless", {})).toEqual([message("nameless")]);
  });
});

describe("instance-shape-limits", () => {
  it("passes the gate and 2 OCPU / 12 GB engines, and a 4 OCPU / 24 GB engine", async () => {
    expect(await onGate(instanceShapeLimits)).toEqual([]);
    expect(await onEngine(instanceShapeLimits, "blue")).toEqual([]);
    expect(
      await onEngine(instanceShapeLimits, "blue", { shapeConfig: { ocpus: 4, memoryInGbs: 24 } }),
    ).toEqual([]);
  });

  it("refuses a shape that is not allowed", async () => {
    expect(await onEngine(instanceShapeLimits, "blue", { shape: "VM.Standard.E4.Flex" })).toEqual([
      'instance "yq-blue" uses shape "VM.Standard.E4.Flex"; allowed shapes: VM.Standard.E2.1.Micro, VM.Standard.A1.Flex',
    ]);
  });

  it("refuses more OCPUs and memory than the defaults allow", async () => {
    expect(
      await onEngine(instanceShapeLimits, "blue", { shapeConfig: { ocpus: 6, memoryInGbs: 36 } }),
    ).toEqual([
      'instance "yq-blue" asks for 6 OCPUs; at most 4 are allowed per instance',
      'instance "yq-blue" asks for 36 GB of memory; at most 24 GB are allowed per instance',
    ]);
  });

  it("takes its limits from the policy config", async () => {
    expect(
      await onEngine(
        instanceShapeLimits,
        "blue",
        {},
        {
          maxOcpus: 1,
          maxMemoryGbs: 6,
          allowedShapes: ["VM.Standard.A1.Flex"],
        },
      ),
    ).toEqual([
      'instance "yq-blue" asks for 2 OCPUs; at most 1 are allowed per instance',
      'instance "yq-blue" asks for 12 GB of memory; at most 6 GB are allowed per instance',
    ]);
    expect(
      await onGate(
        instanceShapeLimits,
        {},
        {
          allowedShapes: ["VM.Standard.A1.Flex"],
        },
      ),
    ).toEqual([
      'instance "yq-gate" uses shape "VM.Standard.E2.1.Micro"; allowed shapes: VM.Standard.A1.Flex',
    ]);
  });
});

describe("boot-volume-in-transit-encryption (advisory)", () => {
  it("passes the flag on the instance or in launchOptions", async () => {
    await expectCompliantInstancesPass(bootVolumeInTransitEncryption);
  });

  it("reports an instance without it", async () => {
    expect(
      await onEngine(bootVolumeInTransitEncryption, "blue", { isPvEncryptionInTransitEnabled: false }),
    ).toEqual([
      'instance "yq-blue" does not enable in-transit encryption of its boot volume (set isPvEncryptionInTransitEnabled: true)',
    ]);
  });
});

describe("reserved-gate-ip (advisory)", () => {
  it("passes a RESERVED public IP and a gate without an ephemeral one", async () => {
    expect(
      await run(reservedGateIp, TYPES.publicIp, "gate-ip", {
        lifetime: "RESERVED",
        displayName: "yq-gate-ip",
        compartmentId: "c",
      }),
    ).toEqual([]);
    expect(await onGate(reservedGateIp)).toEqual([]);
  });

  it("reports an EPHEMERAL public IP", async () => {
    expect(
      await run(reservedGateIp, TYPES.publicIp, "gate-ip", { lifetime: "EPHEMERAL", compartmentId: "c" }),
    ).toEqual([
      'public IP "gate-ip" has lifetime "EPHEMERAL": the gate\'s address must be RESERVED so that it survives a replacement of the gate',
    ]);
  });

  it("reports a gate that takes an ephemeral public IP on its VNIC", async () => {
    expect(await onGate(reservedGateIp, { createVnicDetails: { assignPublicIp: "true" } })).toEqual([
      'gate instance "yq-gate" takes an ephemeral public IP (createVnicDetails.assignPublicIp: true); ' +
        "set it to false and attach a RESERVED oci:Core/publicIp:PublicIp",
    ]);
  });
});

describe("stack-has-reserved-gate-ip (advisory)", () => {
  const resource = (type: string, props: Record<string, unknown>): PolicyResource => ({
    type,
    props,
    urn: `urn:pulumi:prod::yquant-infra::${type}::r`,
    name: "r",
    opts: RESOURCE_OPTIONS,
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  });
  const validate = (resources: PolicyResource[]): string[] => {
    const spy = vi.fn<ReportViolation>();
    const args: StackValidationArgs = {
      resources,
      stackTags: new Map(),
      getConfig: <T extends object>() => ({}) as T,
      notApplicable: (): never => {
        throw new Error("not applicable");
      },
    };
    void stackHasReservedGateIp.validateStack(args, spy);
    return spy.mock.calls.map((c) => c[0]);
  };

  it("passes a stack with a RESERVED public IP", () => {
    expect(
      validate([resource(TYPES.instance, gateProps), resource(TYPES.publicIp, { lifetime: "RESERVED" })]),
    ).toEqual([]);
  });

  it("reports a stack with none, or with only an EPHEMERAL one", () => {
    const message =
      "the stack has no RESERVED public IP (oci:Core/publicIp:PublicIp with lifetime RESERVED) for the gate";
    expect(validate([resource(TYPES.instance, gateProps)])).toEqual([message]);
    expect(validate([resource(TYPES.publicIp, { lifetime: "EPHEMERAL" })])).toEqual([message]);
  });
});
