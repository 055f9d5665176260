/**
 * A hypothetical fourth node, a Sentinel-only witness, added to a COPY of the topology and role
 * tables: the renderers, the program and the lab derive everything about it from those rows.
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RoleSpec, TOPOLOGY, Topology, TopologyError, validateTopology } from "../../cloud-init/topology";
import { COLORS } from "../../cloud-init/layout";
import { sampleLayout } from "../../tools/sample-layout";
import { decodeUserData, renderUserData } from "../../cloud-init/user-data";
import { parseWriteFiles } from "../../cloud-init/write-files";
import { firewallRules } from "../../cloud-init/node-config";
import { Lab } from "../../lab/lab";
import { nodeServices, serviceNames } from "../../lab/services";
import { labLayout } from "../../lab/layout";
import { LAYOUT_SECRETS, ProgramRun, ofType, runProgram, unwrapSecrets, programConfig } from "../fixtures";

const WITNESS_ROLE: RoleSpec = {
  packages: ["valkey-sentinel", "curl", "iptables-persistent"],
  valkey: "none",
  messageReplica: false,
  sentinel: true,
  haproxy: false,
  app: false,
  scripts: ["setup", "health-check"],
  firewall: [{ port: "sentinel", from: "cluster", name: "sentinel" }],
  sizing: "gate",
  publicIp: "withoutNat",
  rebuildable: false,
  monitoring: "none",
};

const WITH_WITNESS: Topology = {
  nodes: [
    ...TOPOLOGY.nodes,
    {
      name: "witness",
      role: "witness",
      hostname: "yq-witness",
      subnet: "engine",
      hostOffset: 12,
      faultDomain: "FAULT-DOMAIN-1",
      labAddress: "127.0.10.4",
    },
  ],
  roles: { ...TOPOLOGY.roles, witness: WITNESS_ROLE },
};

const SECRETS = LAYOUT_SECRETS;

describe("renderers", () => {
  const layout = sampleLayout({ topology: WITH_WITNESS });

  it("give the witness exactly its role's files, packages and hostname", () => {
    const userData = renderUserData(layout, "witness");
    expect(parseWriteFiles(userData).map((f) => f.path)).toEqual([
      "/usr/sbin/policy-rc.d",
      "/etc/yquant/node.env",
      "/etc/yquant/valkey.env",
      "/etc/yquant/valkey-admin.env",
      "/etc/yquant/firewall.rules",
      "/opt/yquant/bin/setup.sh",
      "/opt/yquant/bin/health-check.sh",
      // Sentinel's notification-script (its role runs no monitoring agents, so nothing else).
      "/opt/yquant/bin/sentinel-event.sh",
      "/etc/systemd/system/valkey-sentinel.service.d/yquant-umask.conf",
      "/etc/systemd/system/valkey-sentinel.service.d/yquant-scripts.conf",
      "/etc/valkey/sentinel.conf",
    ]);
    expect(userData).toContain("\nhostname: yq-witness\n");
    expect(userData).toContain("packages:\n  - valkey-sentinel\n  - curl\n  - iptables-persistent\n");
  });

  it("place it at its host offset, with its role in node.env", () => {
    const env = parseWriteFiles(renderUserData(layout, "witness")).find((f) => f.path.endsWith("node.env"));
    expect(env?.content.split("\n").slice(1, 4)).toEqual([
      "NODE_NAME='witness'",
      "NODE_ROLE='witness'",
      "NODE_IP='10.0.2.12'",
    ]);
  });

  it("open the witness's Sentinel to the whole cluster, and every node's Valkey and Sentinel to it", () => {
    const cluster = ["10.0.1.10/32", "10.0.2.10/32", "10.0.2.11/32", "10.0.2.12/32"];
    expect(firewallRules(layout, "witness")).toEqual(
      cluster.map((source) => ({ port: 26379, source, name: "sentinel" })),
    );
    expect(firewallRules(layout, "blue").map((r) => `${r.name} ${r.source}`)).toEqual([
      "app 10.0.1.10/32",
      ...cluster.map((source) => `valkey ${source}`),
      ...cluster.map((source) => `sentinel ${source}`),
      // Monitoring: from the two monitoring servers (blue, green) only; the witness runs none.
      ...[
        "node-exporter",
        "prometheus",
        "alertmanager",
        "alertmanager-gossip",
        "alertmanager-gossip",
      ].flatMap((name) => ["10.0.2.10/32", "10.0.2.11/32"].map((source) => `${name} ${source}`)),
    ]);
  });

  it("list the witness among the Sentinels every node's apps reach", () => {
    for (const node of ["gate", "blue", "green", "witness"]) {
      const env = parseWriteFiles(renderUserData(layout, node)).find((f) => f.path.endsWith("valkey.env"));
      expect(env?.content, node).toContain(
        "SENTINELS='10.0.1.10:26379,10.0.2.10:26379,10.0.2.11:26379,10.0.2.12:26379'\n",
      );
    }
  });
});

describe("program", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(programConfig(), WITH_WITNESS);
  });

  it("runs without a failure and creates one instance per row", () => {
    expect(run.error).toBeUndefined();
    expect(
      ofType(run, "oci:Core/instance:Instance")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["yq-blue-instance", "yq-gate-instance", "yq-green-instance", "yq-witness-instance"]);
  });

  it("builds the witness from its row and its role's sizing: gate shape, engine subnet, no rebuild tag", () => {
    const witness = ofType(run, "oci:Core/instance:Instance").find((r) => r.name === "yq-witness-instance");
    const inputs = unwrapSecrets(witness?.inputs ?? {}) as Record<string, unknown>;
    const metadata = inputs["metadata"] as Record<string, string>;
    expect({ ...inputs, metadata: undefined }).toEqual({
      compartmentId: "ocid1.compartment.oc1..aaaatestcompartment",
      availabilityDomain: "Uocm:EU-FRANKFURT-1-AD-1",
      faultDomain: "FAULT-DOMAIN-1",
      displayName: "yq-witness",
      shape: "VM.Standard.E2.1.Micro",
      sourceDetails: {
        sourceType: "image",
        sourceId: "ocid1.image.oc1..vmstandarde21micro",
        bootVolumeSizeInGbs: "50",
      },
      createVnicDetails: {
        subnetId: "yq-engine-subnet-id",
        privateIp: "10.0.2.12",
        hostnameLabel: "yq-witness",
        displayName: "yq-witness-vnic",
        assignPublicIp: "false",
        assignPrivateDnsRecord: true,
        nsgIds: ["yq-engine-nsg-id"],
      },
      instanceOptions: { areLegacyImdsEndpointsDisabled: true },
      preserveBootVolume: false,
      metadata: undefined,
    });
    expect(decodeUserData(metadata["user_data"] ?? "")).toContain("\nhostname: yq-witness\n");
    const options = run.options.find((o) => o.name === "yq-witness-instance");
    expect(options?.ignoreChanges).toEqual(["metadata", "sourceDetails.sourceId"]);
  });

  it("exports the witness's address and Sentinel, and its instance", () => {
    expect(run.outputs["privateIps"]).toEqual({
      gate: "10.0.1.10",
      blue: "10.0.2.10",
      green: "10.0.2.11",
      witness: "10.0.2.12",
    });
    expect(run.outputs["sentinels"]).toEqual([
      "10.0.1.10:26379",
      "10.0.2.10:26379",
      "10.0.2.11:26379",
      "10.0.2.12:26379",
    ]);
    expect(Object.keys(run.outputs["instanceIds"] as object)).toEqual(["gate", "blue", "green", "witness"]);
  });
});

describe("lab", () => {
  const dir = "/tmp/yq-fourth-node-lab";
  const layout = labLayout({ dir, topology: WITH_WITNESS, secrets: SECRETS, privilegedPorts: false });

  it("gives the witness its own root and lab address", () => {
    expect([layout.roots["witness"], layout.nodes["witness"]]).toEqual([
      path.join(dir, "witness"),
      { privateIp: "127.0.10.4", loopback: "127.0.10.4" },
    ]);
    expect(new Lab(dir, { layout }).nodeOf("127.0.10.4")).toBe("witness");
  });

  it("runs only a Sentinel on the witness", () => {
    expect(nodeServices(layout, "witness")).toEqual([
      { name: "sentinel", unit: "valkey-sentinel", port: 26379 },
    ]);
    expect(serviceNames(layout, "witness")).toEqual(["sentinel"]);
  });
});

describe("validateTopology", () => {
  it("refuses a table whose app nodes are not the colors, naming them", () => {
    const wrong: Topology = {
      ...WITH_WITNESS,
      roles: { ...WITH_WITNESS.roles, witness: { ...WITNESS_ROLE, app: true } },
    };
    expect(() => validateTopology(wrong, COLORS)).toThrow(
      new TopologyError(
        "topology: the app nodes must be blue, green (named after their color), got blue, green, witness",
      ),
    );
  });

  it("refuses a second node at the same subnet address", () => {
    const clash: Topology = {
      ...WITH_WITNESS,
      nodes: WITH_WITNESS.nodes.map((n) => (n.name === "witness" ? { ...n, hostOffset: 11 } : n)),
    };
    expect(() => validateTopology(clash, COLORS)).toThrow(
      'topology: subnet address "engine+11" is used twice',
    );
  });
});
