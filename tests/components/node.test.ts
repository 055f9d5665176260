/** The Node component alone: the options and inputs it gives its instance, whatever the program adds. */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { NODE_IGNORE_CHANGES } from "../../components/node";
import { isSecretMarker, unwrapSecrets } from "../fixtures";

interface Captured {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  ignoreChanges?: string[];
  replaceOnChanges?: string[];
  deleteBeforeReplace?: boolean;
  parent: boolean;
}
const captured = new Map<string, Captured>();

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const entry = captured.get(args.name);
        if (entry) entry.inputs = args.inputs as Record<string, unknown>;
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        throw new Error(`un-mocked invoke ${args.token}`);
      },
    },
    "yquant",
    "node-test",
    false,
    "organization",
  );
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      captured.set(args.name, {
        type: args.type,
        name: args.name,
        inputs: {},
        ignoreChanges: args.opts.ignoreChanges,
        replaceOnChanges: args.opts.replaceOnChanges,
        deleteBeforeReplace: (args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
        parent: args.opts.parent !== undefined,
      });
      return undefined;
    });
    const { Node } = await import("../../components/node");
    const common = {
      compartmentId: "ocid1.compartment.oc1..node",
      availabilityDomain: "AD-1",
      imageId: "ocid1.image.oc1..node",
      subnetId: "subnet-id",
      sshPublicKey: "ssh-ed25519 AAAATEST node@test",
      userData: "#cloud-config\nhostname: test\n",
    };
    new Node("fixed", {
      ...common,
      faultDomain: "FAULT-DOMAIN-1",
      hostname: "yq-fixed",
      shape: "VM.Standard.E2.1.Micro",
      privateIp: "10.0.1.10",
    });
    new Node("flex", {
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
    });
    new Node("fresh", {
      ...common,
      faultDomain: "FAULT-DOMAIN-2",
      hostname: "yq-fresh",
      shape: "VM.Standard.E2.1.Micro",
      privateIp: "10.0.2.10",
      rebuildGeneration: 3,
      keptMetadata: undefined,
    });
    new Node("kept", {
      ...common,
      faultDomain: "FAULT-DOMAIN-3",
      hostname: "yq-kept",
      shape: "VM.Standard.E2.1.Micro",
      privateIp: "10.0.2.11",
      rebuildGeneration: 0,
      keptMetadata: pulumi.output({ ssh_authorized_keys: "old-key", user_data: "b2xk" }),
      keptImageId: pulumi.output("ocid1.image.oc1..running"),
    });
    return {};
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
});

describe("Node", () => {
  it("ignores metadata and the image after creation, and deletes before replacing", () => {
    expect(NODE_IGNORE_CHANGES).toEqual(["metadata", "sourceDetails.sourceId"]);
    expect(captured.get("fixed-instance")?.replaceOnChanges).toBeUndefined();
    for (const name of ["fixed-instance", "flex-instance"]) {
      const instance = captured.get(name);
      expect([
        instance?.type,
        instance?.ignoreChanges,
        instance?.deleteBeforeReplace,
        instance?.parent,
      ]).toEqual(["oci:Core/instance:Instance", ["metadata", "sourceDetails.sourceId"], true, true]);
    }
    expect(captured.get("fixed")?.type).toBe("yquant:compute:Node");
  });

  it("sets exactly these inputs on a fixed-shape instance with defaults", () => {
    const inputs = captured.get("fixed-instance")?.inputs ?? {};
    expect(isSecretMarker(inputs["metadata"])).toBe(true);
    expect(unwrapSecrets(inputs)).toEqual({
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
      metadata: {
        ssh_authorized_keys: "ssh-ed25519 AAAATEST node@test",
        user_data: Buffer.from("#cloud-config\nhostname: test\n").toString("base64"),
      },
    });
  });

  it("gives a flexible shape its shapeConfig, and passes boot volume, public IP and NSGs through", () => {
    const inputs = unwrapSecrets(captured.get("flex-instance")?.inputs ?? {}) as Record<string, unknown>;
    expect(inputs["shapeConfig"]).toEqual({ ocpus: 2, memoryInGbs: 12 });
    expect((inputs["sourceDetails"] as Record<string, unknown>)["bootVolumeSizeInGbs"]).toBe("60");
    expect(inputs["createVnicDetails"]).toMatchObject({ assignPublicIp: "true", nsgIds: ["nsg-id"] });
  });
});

describe("Node with a rebuild generation", () => {
  it("tags the generation, replaces on its change, and ignores neither metadata nor the image", () => {
    for (const [name, generation] of [
      ["fresh-instance", "3"],
      ["kept-instance", "0"],
    ] as const) {
      const instance = captured.get(name);
      expect([
        instance?.ignoreChanges,
        instance?.replaceOnChanges,
        instance?.deleteBeforeReplace,
        unwrapSecrets(instance?.inputs["freeformTags"]),
      ]).toEqual([[], ['freeformTags["yquant-rebuild"]'], true, { "yquant-rebuild": generation }]);
    }
  });

  it("launches with the current user data when nothing is kept, and with the kept metadata otherwise", () => {
    expect(isSecretMarker(captured.get("fresh-instance")?.inputs["metadata"])).toBe(true);
    expect(unwrapSecrets(captured.get("fresh-instance")?.inputs["metadata"])).toEqual({
      ssh_authorized_keys: "ssh-ed25519 AAAATEST node@test",
      user_data: Buffer.from("#cloud-config\nhostname: test\n").toString("base64"),
    });
    expect(isSecretMarker(captured.get("kept-instance")?.inputs["metadata"])).toBe(true);
    expect(unwrapSecrets(captured.get("kept-instance")?.inputs["metadata"])).toEqual({
      ssh_authorized_keys: "old-key",
      user_data: "b2xk",
    });
  });

  it("launches from the current image when nothing is kept, and keeps the running instance's image otherwise", () => {
    const source = (name: string) =>
      (unwrapSecrets(captured.get(name)?.inputs["sourceDetails"]) as Record<string, unknown>)["sourceId"];
    expect([source("fresh-instance"), source("kept-instance")]).toEqual([
      "ocid1.image.oc1..node",
      "ocid1.image.oc1..running",
    ]);
  });
});
