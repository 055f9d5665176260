/**
 * The Nodes component built on its own under the one mock runtime (tests/fixtures.ts `build`): one
 * Node per topology row, with the row's and its role's facts, the image looked up once per shape,
 * the availability domain once, each node's own user data from the one Layout, and its refusals.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { NODE_NAMES, TOPOLOGY } from "../../cloud-init/topology";
import { encodeUserData, renderUserData } from "../../cloud-init/user-data";
import { Nodes, NodesArgs } from "../../components/nodes";
import { RecordedResource } from "../../tools/preview/mock-program";
import { AVAILABILITY_DOMAINS, imageIdFor } from "../../tools/preview/mock-provider";
import {
  COMPARTMENT,
  ProgramRecording,
  SSH_PUBLIC_KEY,
  TYPES,
  build,
  registered,
  cloudLayout,
} from "../fixtures";

const layout = cloudLayout();
const privateIps = Object.fromEntries(NODE_NAMES.map((n) => [n, layout.nodes[n].privateIp]));
const fresh = { generation: 0, keptMetadata: undefined, keptImageId: undefined };

function args(overrides: Partial<NodesArgs> = {}): NodesArgs {
  return {
    topology: TOPOLOGY,
    compartmentId: COMPARTMENT,
    availabilityDomainIndex: 1,
    sizes: {
      gate: { shape: "VM.Standard.E2.1.Micro", imageId: "" },
      engine: { shape: "VM.Standard.A1.Flex", ocpus: 2, memoryGbs: 12, imageId: "" },
    },
    bootVolumeSizeGbs: 50,
    subnetIds: { gate: "gate-subnet-id", engine: "engine-subnet-id" },
    nsgIds: { gate: "gate-nsg-id", engine: "engine-nsg-id" },
    privateIps,
    publicIpsWithoutNat: false,
    layout,
    sshPublicKey: SSH_PUBLIC_KEY,
    rebuilds: { blue: fresh, green: fresh },
    ...overrides,
  };
}

const recordNodes = (a: NodesArgs): Promise<ProgramRecording> =>
  build(() => {
    const nodes = new Nodes("t", a);
    return { instanceIds: nodes.instanceIds, availabilityDomain: nodes.availabilityDomain };
  });

const instance = (r: ProgramRecording, node: string): RecordedResource => {
  const found = r.resources.filter((x) => x.type === TYPES.instance && x.name === `t-${node}-instance`);
  expect(found).toHaveLength(1);
  return found[0] as RecordedResource;
};

describe("Nodes", () => {
  it("registers one Node per topology row, each a child of Nodes with its instance", async () => {
    const r = await recordNodes(args());
    expect(registered(r)).toEqual([
      "yquant:compute:Nodes t <- (root)",
      ...NODE_NAMES.map((n) => `yquant:compute:Node t-${n} <- yquant:compute:Nodes::t`),
      ...NODE_NAMES.map((n) => `${TYPES.instance} t-${n}-instance <- yquant:compute:Node::t-${n}`),
    ]);
    expect(r.outputs).toEqual({
      instanceIds: { gate: "t-gate-instance-id", blue: "t-blue-instance-id", green: "t-green-instance-id" },
      availabilityDomain: AVAILABILITY_DOMAINS[1],
    });
  });

  it("looks the availability domain up once and the image once per shape", async () => {
    const r = await recordNodes(args());
    expect(r.invokes.map((i) => [i.token, i.inputs["shape"] ?? null])).toEqual([
      ["oci:Identity/getAvailabilityDomains:getAvailabilityDomains", null],
      ["oci:Core/getImages:getImages", "VM.Standard.E2.1.Micro"],
      ["oci:Core/getImages:getImages", "VM.Standard.A1.Flex"],
    ]);
    expect(r.invokes[1]?.inputs).toEqual({
      compartmentId: COMPARTMENT,
      operatingSystem: "Canonical Ubuntu",
      operatingSystemVersion: "24.04",
      shape: "VM.Standard.E2.1.Micro",
      sortBy: "TIMECREATED",
      sortOrder: "DESC",
      state: "AVAILABLE",
    });
    expect(NODE_NAMES.map((n) => instance(r, n).inputs["sourceDetails"])).toEqual([
      { sourceType: "image", sourceId: imageIdFor("VM.Standard.E2.1.Micro"), bootVolumeSizeInGbs: "50" },
      { sourceType: "image", sourceId: imageIdFor("VM.Standard.A1.Flex"), bootVolumeSizeInGbs: "50" },
      { sourceType: "image", sourceId: imageIdFor("VM.Standard.A1.Flex"), bootVolumeSizeInGbs: "50" },
    ]);
  });

  it("gives each instance its row's fault domain, hostname, subnet, NSG and address, and its role's size", async () => {
    const r = await recordNodes(args());
    expect(
      NODE_NAMES.map((n) => {
        const x = instance(r, n).inputs;
        const vnic = x["createVnicDetails"] as Record<string, unknown>;
        return [
          x["availabilityDomain"],
          x["faultDomain"],
          x["displayName"],
          x["shape"],
          x["shapeConfig"] ?? null,
          vnic["subnetId"],
          vnic["nsgIds"],
          vnic["privateIp"],
          vnic["assignPublicIp"],
        ];
      }),
    ).toEqual([
      [
        AVAILABILITY_DOMAINS[1],
        "FAULT-DOMAIN-1",
        "yq-gate",
        "VM.Standard.E2.1.Micro",
        null,
        "gate-subnet-id",
        ["gate-nsg-id"],
        "10.0.1.10",
        "false",
      ],
      [
        AVAILABILITY_DOMAINS[1],
        "FAULT-DOMAIN-2",
        "yq-blue",
        "VM.Standard.A1.Flex",
        { ocpus: 2, memoryInGbs: 12 },
        "engine-subnet-id",
        ["engine-nsg-id"],
        "10.0.2.10",
        "false",
      ],
      [
        AVAILABILITY_DOMAINS[1],
        "FAULT-DOMAIN-3",
        "yq-green",
        "VM.Standard.A1.Flex",
        { ocpus: 2, memoryInGbs: 12 },
        "engine-subnet-id",
        ["engine-nsg-id"],
        "10.0.2.11",
        "false",
      ],
    ]);
  });

  it("launches each node with its own user data from the one Layout, and tags only the engines' rebuilds", async () => {
    const r = await recordNodes(args({ rebuilds: { blue: { ...fresh, generation: 2 }, green: fresh } }));
    for (const n of NODE_NAMES) {
      expect(instance(r, n).inputs["metadata"], n).toEqual({
        ssh_authorized_keys: SSH_PUBLIC_KEY,
        user_data: encodeUserData(renderUserData(layout, n)),
      });
      expect(instance(r, n).secretInputs, n).toEqual(["metadata"]);
    }
    expect(NODE_NAMES.map((n) => instance(r, n).inputs["freeformTags"] ?? null)).toEqual([
      null,
      { "yquant-rebuild": "2" },
      { "yquant-rebuild": "0" },
    ]);
    expect(r.outputs["instanceIds"]).toEqual({
      gate: "t-gate-instance-id",
      blue: "t-blue-instance-id-r2",
      green: "t-green-instance-id",
    });
  });

  it("skips the image lookup for a pinned image, and gives the engines a public address only without NAT", async () => {
    const r = await recordNodes(
      args({
        sizes: {
          gate: { shape: "VM.Standard.E2.1.Micro", imageId: "ocid1.image.oc1..pinnedgate" },
          engine: {
            shape: "VM.Standard.A1.Flex",
            ocpus: 4,
            memoryGbs: 24,
            imageId: "ocid1.image.oc1..pinned",
          },
        },
        publicIpsWithoutNat: true,
      }),
    );
    expect(r.invokes.map((i) => i.token)).toEqual([
      "oci:Identity/getAvailabilityDomains:getAvailabilityDomains",
    ]);
    expect(
      NODE_NAMES.map((n) => {
        const x = instance(r, n).inputs;
        return [
          (x["sourceDetails"] as Record<string, unknown>)["sourceId"],
          x["shapeConfig"] ?? null,
          (x["createVnicDetails"] as Record<string, unknown>)["assignPublicIp"],
        ];
      }),
    ).toEqual([
      ["ocid1.image.oc1..pinnedgate", null, "false"],
      ["ocid1.image.oc1..pinned", { ocpus: 4, memoryInGbs: 24 }, "true"],
      ["ocid1.image.oc1..pinned", { ocpus: 4, memoryInGbs: 24 }, "true"],
    ]);
  });

  it("takes a staged sizing for a flexible node only", async () => {
    const r = await recordNodes(
      args({
        sizing: {
          green: pulumi.output({ shape: "VM.Standard.A1.Flex", ocpus: 1, memoryGbs: 6 }),
          gate: { shape: "VM.Standard.A1.Flex", ocpus: 1, memoryGbs: 6 },
        },
      }),
    );
    expect(
      NODE_NAMES.map((n) => [instance(r, n).inputs["shape"], instance(r, n).inputs["shapeConfig"] ?? null]),
    ).toEqual([
      ["VM.Standard.E2.1.Micro", null],
      ["VM.Standard.A1.Flex", { ocpus: 2, memoryInGbs: 12 }],
      ["VM.Standard.A1.Flex", { ocpus: 1, memoryInGbs: 6 }],
    ]);
  });

  it("refuses a rebuildable node without a rebuild counter, naming it", async () => {
    await expect(recordNodes(args({ rebuilds: { blue: fresh } }))).rejects.toThrow(
      "Nodes: no rebuild counter for the rebuildable node green",
    );
  });

  it("refuses an availability domain index out of range, naming the key", async () => {
    await expect(recordNodes(args({ availabilityDomainIndex: 3 }))).rejects.toThrow(
      "yquant:availabilityDomainIndex: 3 is out of range. Allowed: an integer from 0 to 2.",
    );
  });
});
