import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { NodeName } from "../../cloud-init/layout";
import { renderUserData } from "../../cloud-init/user-data";
import { parseWriteFiles } from "../../cloud-init/write-files";
import { ConfigError, parseConfig } from "../../config";
import { buildCloudLayout } from "../../stack-layout";
import {
  OCI_COUNTS,
  ADMIN_CIDR,
  COMPARTMENT,
  SECRET_VALUES,
  SENTINEL_PASSWORD,
  SSH_PRIVATE_KEY,
  SSH_PUBLIC_KEY,
  TLS_PEM,
  VALKEY_PASSWORD,
  programConfig,
  validRaw,
  GATE_PRIMARY_PRIVATE_IP_ID,
  GATE_PUBLIC_IP,
  ProgramRun,
  RecordedResource,
  CORE_OUTPUTS,
  countByType,
  imageIdFor,
  isSecretMarker,
  ofType,
  runProgram,
  unwrapSecrets,
} from "../fixtures";
import { decodeUserData } from "../../cloud-init/user-data";
import { USER_SECRETS, UserSecret } from "../../cloud-init/layout";

const INSTANCE = "oci:Core/instance:Instance";
const NSG_RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule";
const SUBNET = "oci:Core/subnet:Subnet";
const ROUTE_TABLE = "oci:Core/routeTable:RouteTable";

/**
 * The prod stack's stack-core resources by type (Pulumi.prod.yaml: one admin CIDR, NAT gateway,
 * generated passwords). Every `oci:` and `random:` resource counts, whoever creates it; the pipeline's
 * own resources (commands, the stack's self-reference, `yquant:pipeline:*` components) are its
 * tests' business and are left out by `coreCounts`.
 */
const PROD_COUNTS = {
  ...OCI_COUNTS,
  "random:index/randomPassword:RandomPassword": 12,
  "yquant:compute:Node": 3,
  "yquant:network:GateAddress": 1,
  "yquant:network:Network": 1,
  "yquant:security:Secrets": 1,
};

/** Every inbound rule as `nsg <- source : port`, sources being a CIDR or an NSG. */
const EXPECTED_RULES = [
  "gate <- 0.0.0.0/0 : 80",
  "gate <- 0.0.0.0/0 : 443",
  `gate <- ${ADMIN_CIDR} : 22`,
  `gate <- ${ADMIN_CIDR} : 8080`,
  `gate <- ${ADMIN_CIDR} : 8404`,
  "gate <- nsg:engine : 6379",
  "gate <- nsg:engine : 26379",
  // The gate's message replica: the engines' Sentinels and redis_exporter (it connects out to 6379).
  "gate <- nsg:engine : 6380",
  "engine <- nsg:gate : 5000",
  "engine <- nsg:gate : 22",
  "engine <- nsg:gate : 6379",
  "engine <- nsg:engine : 6379",
  "engine <- nsg:gate : 26379",
  "engine <- nsg:engine : 26379",
  // Monitoring (cloud-init/monitoring.ts): only the engines' Prometheus and Alertmanager.
  "gate <- nsg:engine : 9100",
  "gate <- nsg:engine : 8404",
  "engine <- nsg:engine : 9100",
  "engine <- nsg:engine : 9090",
  "engine <- nsg:engine : 9093",
  "engine <- nsg:engine : 9094",
  "engine <- nsg:engine : 9094/udp",
];

const CORE_COMPONENTS = [
  "yquant:compute:Node",
  "yquant:network:Network",
  "yquant:network:GateAddress",
  "yquant:security:Secrets",
];

/** Counts by type of every `oci:`/`random:` resource and of the stack-core components. */
function coreCounts(run: ProgramRun): Record<string, number> {
  return Object.fromEntries(
    Object.entries(countByType(run)).filter(
      ([type]) => type.startsWith("oci:") || type.startsWith("random:") || CORE_COMPONENTS.includes(type),
    ),
  );
}

function coreOutputs(run: ProgramRun): Record<string, unknown> {
  return Object.fromEntries(Object.entries(run.outputs).filter(([key]) => CORE_OUTPUTS.includes(key)));
}

function sortedByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

function byName(run: ProgramRun, name: string): RecordedResource {
  const found = run.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}; have ${run.resources.map((r) => r.name).join(", ")}`);
  return found;
}

function instance(run: ProgramRun, node: NodeName): Record<string, unknown> {
  return byName(run, `yq-${node}-instance`).inputs;
}

function vnic(run: ProgramRun, node: NodeName): Record<string, unknown> {
  return instance(run, node)["createVnicDetails"] as Record<string, unknown>;
}

function ruleSet(run: ProgramRun): string[] {
  const nsgName = (id: unknown) => String(id).replace(/^yq-(gate|engine)-nsg-id$/, "$1");
  return ofType(run, NSG_RULE)
    .map(({ inputs }) => {
      const source =
        inputs["sourceType"] === "NETWORK_SECURITY_GROUP"
          ? `nsg:${nsgName(inputs["source"])}`
          : inputs["source"];
      const udp = inputs["protocol"] === "17";
      expect(inputs["protocol"]).toBe(udp ? "17" : "6");
      const range = (
        inputs[udp ? "udpOptions" : "tcpOptions"] as { destinationPortRange: { min: number; max: number } }
      ).destinationPortRange;
      expect(range.min).toBe(range.max);
      return `${nsgName(inputs["networkSecurityGroupId"])} <- ${String(source)} : ${range.min}${udp ? "/udp" : ""}`;
    })
    .sort();
}

function decodedUserData(run: ProgramRun, node: NodeName): string {
  const metadata = unwrapSecrets(instance(run, node)["metadata"]) as Record<string, string>;
  return decodeUserData(metadata["user_data"] ?? "");
}

function prodConfig(): Record<string, string> {
  const stack = (
    yaml.load(fs.readFileSync(path.resolve(__dirname, "../../Pulumi.prod.yaml"), "utf8")) as {
      config: Record<string, unknown>;
    }
  ).config;
  const values: Record<string, string> = { sshPrivateKey: SSH_PRIVATE_KEY };
  for (const [key, value] of Object.entries(stack)) {
    values[key.replace(/^yquant:/, "")] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return values;
}

describe("the prod stack (Pulumi.prod.yaml) under mocks", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(prodConfig());
  });

  it("creates exactly these resources by type", () => {
    expect(run.error).toBeUndefined();
    expect(coreCounts(run)).toEqual(PROD_COUNTS);
  });

  it("exports exactly these outputs", () => {
    expect(coreOutputs(run)).toEqual({
      activeColor: "blue",
      standbyColor: "green",
      gatePublicIp: GATE_PUBLIC_IP,
      liveUrl: `http://${GATE_PUBLIC_IP}/`,
      stagingUrl: `http://${GATE_PUBLIC_IP}:8080/`,
      privateIps: { gate: "10.0.1.10", blue: "10.0.2.10", green: "10.0.2.11" },
      instanceIds: {
        gate: "yq-gate-instance-id",
        blue: "yq-blue-instance-id",
        green: "yq-green-instance-id",
      },
      sentinels: ["10.0.1.10:26379", "10.0.2.10:26379", "10.0.2.11:26379"],
      costEstimate: {
        monthlyUsd: expect.any(Number),
        monthlyUsdWithoutFreeTier: expect.any(Number),
        withinFreeTier: expect.any(Boolean),
        overages: expect.any(Array),
      },
    });
  });
});

/** The generated passwords of the users besides the apps' two (USER_SECRETS). */
const OTHER_USERS_PASSWORDS = [
  "yq-message-admin-password",
  "yq-message-monitor-password",
  "yq-message-replication-password",
  "yq-message-sentinel-password",
  "yq-sentinel-admin-password",
  "yq-sentinel-monitor-password",
  "yq-sentinel-peer-password",
  "yq-token-admin-password",
  "yq-token-app-password",
  "yq-token-monitor-password",
];

describe("the program under mocks (test config with every secret set)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(
      programConfig({
        valkeyPassword: VALKEY_PASSWORD,
        sentinelPassword: SENTINEL_PASSWORD,
        tlsPem: TLS_PEM,
      }),
    );
    expect(run.error).toBeUndefined();
  });

  it("generates only the 10 other users' passwords when both apps' passwords are set", () => {
    expect(
      ofType(run, "random:index/randomPassword:RandomPassword")
        .map((r) => r.name)
        .sort(),
    ).toEqual(OTHER_USERS_PASSWORDS);
  });

  it("gives each node its shape, shapeConfig, fault domain, names and boot volume", () => {
    const summary = (["gate", "blue", "green"] as const).map((node) => {
      const inputs = instance(run, node);
      return {
        displayName: inputs["displayName"],
        shape: inputs["shape"],
        shapeConfig: inputs["shapeConfig"],
        faultDomain: inputs["faultDomain"],
        availabilityDomain: inputs["availabilityDomain"],
        compartmentId: inputs["compartmentId"],
        sourceDetails: inputs["sourceDetails"],
        preserveBootVolume: inputs["preserveBootVolume"],
      };
    });
    const source = (shape: string) => ({
      sourceType: "image",
      sourceId: imageIdFor(shape),
      bootVolumeSizeInGbs: "50",
    });
    const common = {
      availabilityDomain: "Uocm:EU-FRANKFURT-1-AD-1",
      compartmentId: COMPARTMENT,
      preserveBootVolume: false,
    };
    expect(summary).toEqual([
      {
        ...common,
        displayName: "yq-gate",
        shape: "VM.Standard.E2.1.Micro",
        shapeConfig: undefined,
        faultDomain: "FAULT-DOMAIN-1",
        sourceDetails: source("VM.Standard.E2.1.Micro"),
      },
      {
        ...common,
        displayName: "yq-blue",
        shape: "VM.Standard.A1.Flex",
        shapeConfig: { ocpus: 2, memoryInGbs: 12 },
        faultDomain: "FAULT-DOMAIN-2",
        sourceDetails: source("VM.Standard.A1.Flex"),
      },
      {
        ...common,
        displayName: "yq-green",
        shape: "VM.Standard.A1.Flex",
        shapeConfig: { ocpus: 2, memoryInGbs: 12 },
        faultDomain: "FAULT-DOMAIN-3",
        sourceDetails: source("VM.Standard.A1.Flex"),
      },
    ]);
    expect(new Set(summary.map((s) => s.faultDomain)).size).toBe(3);
  });

  it("pins each VNIC's private IP, hostname, subnet and NSG, with no public IP on any node", () => {
    expect((["gate", "blue", "green"] as const).map((node) => vnic(run, node))).toEqual([
      {
        subnetId: "yq-gate-subnet-id",
        privateIp: "10.0.1.10",
        hostnameLabel: "yq-gate",
        displayName: "yq-gate-vnic",
        assignPublicIp: "false",
        assignPrivateDnsRecord: true,
        nsgIds: ["yq-gate-nsg-id"],
      },
      {
        subnetId: "yq-engine-subnet-id",
        privateIp: "10.0.2.10",
        hostnameLabel: "yq-blue",
        displayName: "yq-blue-vnic",
        assignPublicIp: "false",
        assignPrivateDnsRecord: true,
        nsgIds: ["yq-engine-nsg-id"],
      },
      {
        subnetId: "yq-engine-subnet-id",
        privateIp: "10.0.2.11",
        hostnameLabel: "yq-green",
        displayName: "yq-green-vnic",
        assignPublicIp: "false",
        assignPrivateDnsRecord: true,
        nsgIds: ["yq-engine-nsg-id"],
      },
    ]);
  });

  it("disables the legacy IMDS endpoints on every instance", () => {
    for (const { inputs } of ofType(run, INSTANCE)) {
      expect(inputs["instanceOptions"]).toEqual({ areLegacyImdsEndpointsDisabled: true });
    }
  });

  it("never replaces a VM for a new image or user data, and deletes before replacing (pinned IP)", () => {
    // No instance ignores anything: each chooses its metadata and image itself (the recorded
    // metadata and the running image while it stands; bluegreen/rebuild.ts, bluegreen/gate-rebuild.ts).
    const instances = sortedByName(run.options.filter((o) => o.type === INSTANCE));
    expect(instances.map((o) => o.name)).toEqual([
      "yq-blue-instance",
      "yq-gate-instance",
      "yq-green-instance",
    ]);
    const gate = instances.find((o) => o.name === "yq-gate-instance");
    expect([gate?.ignoreChanges, gate?.deleteBeforeReplace]).toEqual([[], true]);
    for (const engine of instances.filter((o) => o !== gate)) {
      expect(engine.ignoreChanges, engine.name).toEqual([]);
      expect(engine.deleteBeforeReplace, engine.name).toBe(true);
    }
  });

  it("gives every custom resource a component parent", () => {
    const custom = run.options.filter((o) => !o.type.startsWith("yquant:"));
    expect(custom.filter((o) => o.type.startsWith("oci:")).length).toBe(39);
    expect(custom.filter((o) => !o.hasParent)).toEqual([]);
  });

  it("looks up the image once per shape, newest Canonical Ubuntu 24.04 first", () => {
    const lookups = run.invokes
      .filter((i) => i.token === "oci:Core/getImages:getImages")
      .map((i) => i.inputs)
      .sort((a, b) => String(b["shape"]).localeCompare(String(a["shape"])));
    const query = (shape: string) => ({
      compartmentId: COMPARTMENT,
      operatingSystem: "Canonical Ubuntu",
      operatingSystemVersion: "24.04",
      shape,
      sortBy: "TIMECREATED",
      sortOrder: "DESC",
      state: "AVAILABLE",
    });
    expect(lookups).toEqual([query("VM.Standard.E2.1.Micro"), query("VM.Standard.A1.Flex")]);
  });

  it("makes exactly these invokes: one AD list, two image lookups, and the gate's VNIC and private IP", () => {
    expect(run.invokes.map((i) => i.token).sort()).toEqual([
      "oci:Core/getImages:getImages",
      "oci:Core/getImages:getImages",
      "oci:Core/getPrivateIps:getPrivateIps",
      "oci:Core/getVnicAttachments:getVnicAttachments",
      "oci:Identity/getAvailabilityDomains:getAvailabilityDomains",
    ]);
    expect(run.invokes.find((i) => i.token.endsWith("getVnicAttachments"))?.inputs).toEqual({
      compartmentId: COMPARTMENT,
      instanceId: "yq-gate-instance-id",
    });
  });

  it("binds a RESERVED public IP to the gate's primary private IP", () => {
    expect(ofType(run, "oci:Core/publicIp:PublicIp").map((r) => r.inputs)).toEqual([
      {
        compartmentId: COMPARTMENT,
        lifetime: "RESERVED",
        privateIpId: GATE_PRIMARY_PRIVATE_IP_ID,
        displayName: "yq-gate-public-ip",
      },
    ]);
  });

  it("opens exactly the least-privilege NSG rule set", () => {
    expect(ruleSet(run)).toEqual([...EXPECTED_RULES].sort());
    for (const { inputs } of ofType(run, NSG_RULE)) {
      // TCP everywhere but Alertmanager's gossip, which is also UDP.
      const udp = String(inputs["description"]).includes("/udp");
      expect([inputs["direction"], inputs["protocol"], inputs["stateless"]]).toEqual([
        "INGRESS",
        udp ? "17" : "6",
        false,
      ]);
    }
  });

  it("lets 0.0.0.0/0 in only on 80 and 443 of the gate, and the security list lets nothing in", () => {
    const world = ruleSet(run).filter((rule) => rule.includes("0.0.0.0/0"));
    expect(world).toEqual(["gate <- 0.0.0.0/0 : 443", "gate <- 0.0.0.0/0 : 80"]);
    const [securityList] = ofType(run, "oci:Core/securityList:SecurityList");
    expect(securityList?.inputs["ingressSecurityRules"]).toEqual([]);
    expect(securityList?.inputs["egressSecurityRules"]).toEqual([
      { destination: "0.0.0.0/0", destinationType: "CIDR_BLOCK", protocol: "all" },
    ]);
  });

  it("builds the VCN, a public gate subnet and a private engine subnet behind the NAT gateway", () => {
    expect(byName(run, "yq-vcn").inputs).toEqual({
      compartmentId: COMPARTMENT,
      cidrBlocks: ["10.0.0.0/16"],
      displayName: "yq-vcn",
      dnsLabel: "yquant",
    });
    const subnets = ofType(run, SUBNET).map(({ inputs }) => ({
      cidr: inputs["cidrBlock"],
      prohibitPublicIpOnVnic: inputs["prohibitPublicIpOnVnic"],
      prohibitInternetIngress: inputs["prohibitInternetIngress"],
      routeTableId: inputs["routeTableId"],
      securityListIds: inputs["securityListIds"],
    }));
    subnets.sort((a, b) => String(a.cidr).localeCompare(String(b.cidr)));
    expect(subnets).toEqual([
      {
        cidr: "10.0.1.0/24",
        prohibitPublicIpOnVnic: false,
        prohibitInternetIngress: false,
        routeTableId: "yq-public-rt-id",
        securityListIds: ["yq-sl-id"],
      },
      {
        cidr: "10.0.2.0/24",
        prohibitPublicIpOnVnic: true,
        prohibitInternetIngress: true,
        routeTableId: "yq-private-rt-id",
        securityListIds: ["yq-sl-id"],
      },
    ]);
    expect(sortedByName(ofType(run, ROUTE_TABLE)).map((r) => [r.name, r.inputs["routeRules"]])).toEqual([
      [
        "yq-private-rt",
        [{ destination: "0.0.0.0/0", destinationType: "CIDR_BLOCK", networkEntityId: "yq-nat-id" }],
      ],
      [
        "yq-public-rt",
        [{ destination: "0.0.0.0/0", destinationType: "CIDR_BLOCK", networkEntityId: "yq-igw-id" }],
      ],
    ]);
  });

  it("puts the rendered cloud-config of each node, with the configured secrets, into secret metadata", () => {
    const config = parseConfig(
      validRaw({ valkeyPassword: VALKEY_PASSWORD, sentinelPassword: SENTINEL_PASSWORD, tlsPem: TLS_PEM }),
    );
    // The other users' passwords are generated: the mock runtime's RandomPassword result for each.
    const users = Object.fromEntries(
      USER_SECRETS.map((key) => {
        const name = `yq-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-password`;
        return [key, `Gen${name.replace(/[^A-Za-z0-9]/g, "")}0123456789abcdefghij`.slice(0, 32)];
      }),
    ) as Record<UserSecret, string>;
    const layout = buildCloudLayout(config, {
      valkeyPassword: VALKEY_PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
      tlsPem: TLS_PEM,
      users,
    });
    for (const node of ["gate", "blue", "green"] as const) {
      const metadata = instance(run, node)["metadata"];
      expect(isSecretMarker(metadata), node).toBe(true);
      expect(Object.keys(unwrapSecrets(metadata) as object).sort()).toEqual([
        "ssh_authorized_keys",
        "user_data",
      ]);
      expect((unwrapSecrets(metadata) as Record<string, string>)["ssh_authorized_keys"]).toBe(SSH_PUBLIC_KEY);
      const userData = decodedUserData(run, node);
      expect(userData).toBe(renderUserData(layout, node));
      expect(userData.startsWith("#cloud-config\n")).toBe(true);
    }
  });

  it("keeps every instance's metadata within OCI's 32,000-byte limit", () => {
    for (const node of ["gate", "blue", "green"] as const) {
      const metadata = unwrapSecrets(instance(run, node)["metadata"]) as Record<string, string>;
      const bytes = Object.entries(metadata).reduce(
        (sum, [k, v]) => sum + k.length + Buffer.byteLength(v),
        0,
      );
      expect(bytes, node).toBeLessThan(32_000);
    }
  });

  it("puts no secret value in any stack output", () => {
    const printed = JSON.stringify(run.outputs);
    for (const secret of SECRET_VALUES) {
      expect(printed).not.toContain(secret);
      expect(printed).not.toContain(Buffer.from(secret).toString("base64"));
    }
    expect(printed).not.toContain("TESTONLYNOTAREALKEY");
    expect(printed).not.toContain("TESTPRIVATEKEYBODY");
  });
});

describe("generated passwords", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(programConfig());
  });

  it("come from twelve RandomPasswords (two apps', ten other users': three of them redis_exporter's monitor) of 32 characters without special characters", () => {
    const passwords = ofType(run, "random:index/randomPassword:RandomPassword");
    expect(passwords.map((r) => r.name).sort()).toEqual(
      [...OTHER_USERS_PASSWORDS, "yq-sentinel-password", "yq-valkey-password"].sort(),
    );
    for (const p of passwords) expect(p.inputs, p.name).toEqual({ length: 32, special: false });
  });

  it("reach the user data, and no output", () => {
    const generated = ["Genyqvalkeypassword0123456789abc", "Genyqsentinelpassword0123456789a"];
    // The files as cloud-init writes them (the user data is gzipped once, then base64).
    const files = parseWriteFiles(decodedUserData(run, "gate"))
      .map((f) => f.content)
      .join("\n");
    const printed = JSON.stringify(run.outputs);
    for (const password of generated) {
      expect(files).toContain(password);
      expect(printed).not.toContain(password);
    }
  });
});

describe("natGateway: false (tenancies without NAT gateways)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(programConfig({ natGateway: "false" }));
    expect(run.error).toBeUndefined();
  });

  it("drops the NAT gateway and its route table, and nothing else", () => {
    const counts = countByType(run);
    expect(counts["oci:Core/natGateway:NatGateway"]).toBeUndefined();
    expect(counts[ROUTE_TABLE]).toBe(1);
    expect(counts[INSTANCE]).toBe(3);
    expect(counts[NSG_RULE]).toBe(21);
  });

  it("gives engines public IPs in a subnet routed to the internet gateway, with no inbound internet rule", () => {
    const engineSubnet = byName(run, "yq-engine-subnet").inputs;
    expect([
      engineSubnet["prohibitPublicIpOnVnic"],
      engineSubnet["prohibitInternetIngress"],
      engineSubnet["routeTableId"],
    ]).toEqual([false, false, "yq-public-rt-id"]);
    expect((["gate", "blue", "green"] as const).map((node) => vnic(run, node)["assignPublicIp"])).toEqual([
      "false",
      "true",
      "true",
    ]);
    expect(ruleSet(run)).toEqual([...EXPECTED_RULES].sort());
  });
});

describe("pinned images", () => {
  it("skip the image lookup for a pinned shape", async () => {
    const run = await runProgram(
      programConfig({ engineImageId: "ocid1.image.oc1.eu-frankfurt-1.pinnedarm" }),
    );
    expect(run.error).toBeUndefined();
    const lookups = run.invokes.filter((i) => i.token === "oci:Core/getImages:getImages");
    expect(lookups.map((i) => i.inputs["shape"])).toEqual(["VM.Standard.E2.1.Micro"]);
    expect((instance(run, "blue")["sourceDetails"] as Record<string, unknown>)["sourceId"]).toBe(
      "ocid1.image.oc1.eu-frankfurt-1.pinnedarm",
    );
  });
});

describe("bad input creates nothing", () => {
  it("refuses an unknown color before any resource or invoke", async () => {
    const run = await runProgram(programConfig({ activeColor: "purple" }));
    expect(run.error).toBeInstanceOf(Error);
    expect((run.error as Error).name).toBe(ConfigError.name);
    expect((run.error as Error).message).toBe(
      'yquant:activeColor: "purple" is not a color. Allowed: "blue" or "green".',
    );
    expect(run.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    expect(run.invokes).toEqual([]);
  });
});
