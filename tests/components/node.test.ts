/**
 * The Node component built on its own under the one mock runtime (tests/fixtures.ts `build`): the
 * exact resources, inputs, secrecy, options and outputs it gives its instance, whatever the program
 * adds around it.
 */
import * as pulumi from "@pulumi/pulumi";
import { encodeUserData } from "../../cloud-init/user-data";
import { beforeAll, describe, expect, it } from "vitest";
import { NODE_IGNORE_CHANGES, Node, NodeArgs } from "../../components/node";
import type { RecordedResource } from "../../tools/preview/mock-program";
import { ProgramRecording, TYPES, build, registered } from "../fixtures";

const USER_DATA = "#cloud-config\nhostname: test\n";
const SSH_KEY = "ssh-ed25519 AAAATEST node@test";
const common = {
  compartmentId: "ocid1.compartment.oc1..node",
  availabilityDomain: "AD-1",
  imageId: "ocid1.image.oc1..node",
  subnetId: "subnet-id",
  sshPublicKey: SSH_KEY,
  userData: USER_DATA,
  bootVolumeSizeGbs: 50,
};
const CURRENT_METADATA = {
  ssh_authorized_keys: SSH_KEY,
  user_data: encodeUserData(USER_DATA),
};

const NODES: Readonly<Record<string, NodeArgs>> = {
  fixed: {
    ...common,
    faultDomain: "FAULT-DOMAIN-1",
    hostname: "yq-fixed",
    shape: "VM.Standard.E2.1.Micro",
    privateIp: "10.0.1.10",
  },
  flex: {
    ...common,
    faultDomain: "FAULT-DOMAIN-2",
    hostname: "yq-flex",
    shape: "VM.Standard.A1.Flex",
    ocpus: 2,
    memoryGbs: 12,
    bootVolumeSizeGbs: 60,
    privateIp: "10.0.2.10",
    assignPublicIp: true,
    nsgIds: ["nsg-id"],
  },
  fresh: {
    ...common,
    faultDomain: "FAULT-DOMAIN-2",
    hostname: "yq-fresh",
    shape: "VM.Standard.E2.1.Micro",
    privateIp: "10.0.2.10",
    rebuildGeneration: 3,
    keptMetadata: undefined,
  },
  kept: {
    ...common,
    faultDomain: "FAULT-DOMAIN-3",
    hostname: "yq-kept",
    shape: "VM.Standard.E2.1.Micro",
    privateIp: "10.0.2.11",
    rebuildGeneration: 0,
    keptMetadata: pulumi.output({ ssh_authorized_keys: "old-key", user_data: "b2xk" }),
    keptImageId: pulumi.output("ocid1.image.oc1..running"),
  },
};

let r: ProgramRecording;
beforeAll(async () => {
  r = await build(() =>
    Object.fromEntries(
      Object.entries(NODES).map(([name, args]) => {
        const node = new Node(name, args);
        return [name, { id: node.instanceId, metadata: node.launchMetadata }];
      }),
    ),
  );
});

const instance = (name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.name === `${name}-instance`);
  expect(found).toHaveLength(1);
  return found[0] as RecordedResource;
};

describe("Node", () => {
  it("registers exactly one component and one instance per node, the instance its child", () => {
    expect(registered(r).sort()).toEqual(
      Object.keys(NODES)
        .flatMap((n) => [
          `${TYPES.instance} ${n}-instance <- yquant:compute:Node::${n}`,
          `yquant:compute:Node ${n} <- (root)`,
        ])
        .sort(),
    );
    expect(r.invokes).toEqual([]);
  });

  it("ignores metadata and the image after creation, and deletes before replacing", () => {
    expect(NODE_IGNORE_CHANGES).toEqual(["metadata", "sourceDetails.sourceId"]);
    for (const name of ["fixed", "flex"]) {
      const x = instance(name);
      expect([x.ignoreChanges, x.replaceOnChanges, x.deleteBeforeReplace]).toEqual([
        ["metadata", "sourceDetails.sourceId"],
        [],
        true,
      ]);
    }
  });

  it("sets exactly these inputs on a fixed-shape instance with defaults, metadata the only secret", () => {
    const x = instance("fixed");
    expect(x.secretInputs).toEqual(["metadata"]);
    expect(x.inputs).toEqual({
      compartmentId: "ocid1.compartment.oc1..node",
      availabilityDomain: "AD-1",
      faultDomain: "FAULT-DOMAIN-1",
      displayName: "yq-fixed",
      shape: "VM.Standard.E2.1.Micro",
      sourceDetails: { sourceType: "image", sourceId: "ocid1.image.oc1..node", bootVolumeSizeInGbs: "50" },
      createVnicDetails: {
        subnetId: "subnet-id",
        privateIp: "10.0.1.10",
        hostnameLabel: "yq-fixed",
        displayName: "yq-fixed-vnic",
        assignPublicIp: "false",
        assignPrivateDnsRecord: true,
        nsgIds: [],
      },
      instanceOptions: { areLegacyImdsEndpointsDisabled: true },
      preserveBootVolume: false,
      metadata: CURRENT_METADATA,
    });
  });

  it("gives a flexible shape its shapeConfig, and passes boot volume, public IP and NSGs through", () => {
    const inputs = instance("flex").inputs;
    expect([
      inputs["shapeConfig"],
      (inputs["sourceDetails"] as Record<string, unknown>)["bootVolumeSizeInGbs"],
      (inputs["createVnicDetails"] as Record<string, unknown>)["assignPublicIp"],
      (inputs["createVnicDetails"] as Record<string, unknown>)["nsgIds"],
    ]).toEqual([{ ocpus: 2, memoryInGbs: 12 }, "60", "true", ["nsg-id"]]);
  });

  it("outputs the instance's ID and the launch metadata it was given", () => {
    expect(r.outputs).toEqual({
      fixed: { id: "fixed-instance-id", metadata: CURRENT_METADATA },
      flex: { id: "flex-instance-id", metadata: CURRENT_METADATA },
      fresh: { id: "fresh-instance-id-r3", metadata: CURRENT_METADATA },
      kept: { id: "kept-instance-id", metadata: { ssh_authorized_keys: "old-key", user_data: "b2xk" } },
    });
  });
});

describe("Node with a rebuild generation", () => {
  it("tags the generation, replaces on its change, and ignores neither metadata nor the image", () => {
    for (const [name, generation] of [
      ["fresh", "3"],
      ["kept", "0"],
    ] as const) {
      const x = instance(name);
      expect([x.ignoreChanges, x.replaceOnChanges, x.deleteBeforeReplace, x.inputs["freeformTags"]]).toEqual([
        [],
        ['freeformTags["yquant-rebuild"]'],
        true,
        { "yquant-rebuild": generation },
      ]);
    }
  });

  it("launches with the current user data when nothing is kept, and with the kept metadata otherwise", () => {
    expect([instance("fresh").secretInputs, instance("kept").secretInputs]).toEqual([
      ["metadata"],
      ["metadata"],
    ]);
    expect([instance("fresh").inputs["metadata"], instance("kept").inputs["metadata"]]).toEqual([
      CURRENT_METADATA,
      { ssh_authorized_keys: "old-key", user_data: "b2xk" },
    ]);
  });

  it("launches from the current image when nothing is kept, and keeps the running instance's image otherwise", () => {
    const source = (name: string) =>
      (instance(name).inputs["sourceDetails"] as Record<string, unknown>)["sourceId"];
    expect([source("fresh"), source("kept")]).toEqual(["ocid1.image.oc1..node", "ocid1.image.oc1..running"]);
  });
});
