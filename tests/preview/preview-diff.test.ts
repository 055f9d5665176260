/** The preview model on hand-made recordings: ignoreChanges, provider facts, collisions, reboots. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { ProgramRecording, RecordedResource } from "../../tools/preview/mock-program";
import { UNKNOWN } from "../../tools/preview/mock-program";
import {
  applyIgnoreChanges,
  changedPaths,
  describeDiff,
  formatPreviewDiff,
  pathMatches,
  previewDiff,
} from "../../tools/preview/preview-diff";
import {
  FACTS_VERSIONS,
  KNOWN_TYPES,
  classifyPath,
  rebootEffect,
  updateCaveat,
} from "../../tools/preview/provider-rules";
import { TYPES } from "../fixtures";

const INSTANCE = TYPES.instance;
const SUBNET = TYPES.subnet;
const COMMAND = TYPES.command;

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<RecordedResource> = {},
): RecordedResource {
  return {
    type,
    name,
    custom: true,
    inputs,
    markedInputs: inputs,
    secretInputs: [],
    dependsOn: [],
    ignoreChanges: [],
    replaceOnChanges: [],
    deleteBeforeReplace: false,
    protect: false,
    retainOnDelete: false,
    ...extra,
  };
}
function first<T>(items: readonly T[]): T {
  const item = items[0];
  if (item === undefined) throw new Error("no item");
  return item;
}
const recording = (...resources: RecordedResource[]): ProgramRecording => ({
  resources,
  invokes: [],
  options: [],
  outputs: {},
});

describe("provider facts (tools/preview/forcenew.json)", () => {
  it("were read for the provider packages installed: a bump without a new file fails here", () => {
    const installed = (pkg: string): string =>
      (
        JSON.parse(
          fs.readFileSync(path.join(__dirname, "../../node_modules", pkg, "package.json"), "utf8"),
        ) as { version: string }
      ).version;
    const declared = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(FACTS_VERSIONS).toEqual({
      "@pulumi/oci": "4.20.0",
      "@pulumi/command": "1.2.1",
      "@pulumi/random": "4.21.2",
    });
    for (const [pkg, version] of Object.entries(FACTS_VERSIONS)) {
      expect(installed(pkg), pkg).toBe(version);
      expect(declared.dependencies[pkg], pkg).toBe(version);
    }
  });

  it("cover every resource type the program registers", () => {
    expect(KNOWN_TYPES).toEqual(expect.arrayContaining(Object.values(TYPES)));
  });

  it("classify paths by the most specific entry; of metadata only user_data and ssh_authorized_keys replace", () => {
    const cases: [string, string, string][] = [
      [INSTANCE, "metadata.user_data", "replace"],
      [INSTANCE, "metadata.ssh_authorized_keys", "replace"],
      [INSTANCE, "metadata.other_key", "update"],
      [INSTANCE, "sourceDetails.sourceId", "update"],
      [INSTANCE, "sourceDetails.bootVolumeSizeInGbs", "update"],
      [INSTANCE, "createVnicDetails.subnetId", "replace"],
      [INSTANCE, "createVnicDetails.privateIp", "replace"],
      [INSTANCE, "createVnicDetails.nsgIds", "update"],
      [INSTANCE, "createVnicDetails.assignPublicIp", "update"],
      [INSTANCE, 'freeformTags["yquant-rebuild"]', "update"],
      [INSTANCE, "availabilityDomain", "replace"],
      [INSTANCE, "shapeConfig.ocpus", "update"],
      [INSTANCE, "noSuchInput", "unlisted"],
      ["oci:Core/vcn:Vcn", "dnsLabel", "replace"],
      ["oci:Core/vcn:Vcn", "cidrBlocks", "update"],
      [SUBNET, "cidrBlock", "update"],
      [SUBNET, "dnsLabel", "replace"],
      [SUBNET, "prohibitInternetIngress", "replace"],
      [SUBNET, "vcnId", "replace"],
      [
        "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
        "networkSecurityGroupId",
        "replace",
      ],
      [COMMAND, "triggers", "replace"],
      [COMMAND, "connection.host", "update"],
      [COMMAND, "create", "update"],
      ["test:index:Thing", "x", "unlisted"],
    ];
    expect(cases.map(([type, p]) => classifyPath(type, p))).toEqual(cases.map(([, , c]) => c));
  });

  it("name the in-place updates that reboot, and the other side effects", () => {
    expect(
      ["shape", "shapeConfig.ocpus", "shapeConfig.memoryInGbs", "faultDomain", "sourceDetails.sourceId"].map(
        (p) => rebootEffect(INSTANCE, p) !== undefined,
      ),
    ).toEqual([true, true, true, true, true]);
    expect(rebootEffect(INSTANCE, "sourceDetails.bootVolumeSizeInGbs")).toBeUndefined();
    expect(updateCaveat(INSTANCE, "sourceDetails.bootVolumeSizeInGbs")).toMatch(
      /^BlockStorage UpdateBootVolume \(online grow/,
    );
    expect(rebootEffect(INSTANCE, "displayName")).toBeUndefined();
  });
});

describe("previewDiff", () => {
  it("lists changed leaf paths, walking objects, not arrays", () => {
    expect(changedPaths({ a: { b: 1, "c-d": 2 }, e: [1] }, { a: { b: 1, "c-d": 3 }, e: [2] })).toEqual([
      'a["c-d"]',
      "e",
    ]);
  });

  it("matches replaceOnChanges paths like the engine", () => {
    expect(pathMatches("triggers[*]", "triggers")).toBe(true);
    expect(pathMatches('freeformTags["yquant-rebuild"]', 'freeformTags["yquant-rebuild"]')).toBe(true);
    expect(pathMatches('freeformTags["yquant-rebuild"]', 'freeformTags["other"]')).toBe(false);
    expect(pathMatches("metadata", "metadata.user_data")).toBe(true);
    expect(pathMatches("*", "anything.at.all")).toBe(true);
    expect(pathMatches("connection", "create")).toBe(false);
  });

  it("applies ignoreChanges like the engine: the old value goes into the new inputs, absent stays absent", () => {
    expect(
      applyIgnoreChanges(
        { metadata: { user_data: "old" }, sourceDetails: { sourceId: "img-1", size: "50" } },
        { metadata: { user_data: "new" }, sourceDetails: { sourceId: "img-2", size: "60" }, extra: 1 },
        ["metadata", "sourceDetails.sourceId", "extra"],
      ),
    ).toEqual({ metadata: { user_data: "old" }, sourceDetails: { sourceId: "img-1", size: "60" } });
  });

  it("keeps ignored values even on replacement, and reports them as kept", () => {
    const before = recording(
      resource(
        INSTANCE,
        "vm",
        { availabilityDomain: "AD-1", sourceDetails: { sourceId: "img-1" } },
        {
          ignoreChanges: ["sourceDetails.sourceId"],
          deleteBeforeReplace: true,
        },
      ),
    );
    const after = recording(
      resource(
        INSTANCE,
        "vm",
        { availabilityDomain: "AD-2", sourceDetails: { sourceId: "img-2" } },
        {
          ignoreChanges: ["sourceDetails.sourceId"],
          deleteBeforeReplace: true,
        },
      ),
    );
    expect(describeDiff(first(previewDiff(before, after)))).toBe(
      "+- vm; replace (availabilityDomain) delete-first; kept by ignoreChanges (sourceDetails.sourceId)",
    );
  });

  it("replaces on metadata.user_data, updates other metadata keys, and names reboots", () => {
    const vm = (metadata: Record<string, string>, ocpus: number): RecordedResource =>
      resource(INSTANCE, "vm", { metadata, shapeConfig: { ocpus } });
    const diff = (a: RecordedResource, b: RecordedResource): string =>
      describeDiff(first(previewDiff(recording(a), recording(b))));
    expect(diff(vm({ user_data: "a", k: "1" }, 2), vm({ user_data: "b", k: "1" }, 2))).toBe(
      "+- vm; replace (metadata.user_data)",
    );
    expect(diff(vm({ user_data: "a", k: "1" }, 2), vm({ user_data: "a", k: "2" }, 2))).toBe(
      "~ vm; update (metadata.k)",
    );
    expect(diff(vm({ user_data: "a" }, 2), vm({ user_data: "a" }, 1))).toBe(
      "~ vm; update (shapeConfig.ocpus); REBOOTS (shapeConfig.ocpus)",
    );
  });

  it("finds create-before-delete collisions of unique values, and none when the old one goes first or the scope is new", () => {
    const subnet = (
      vcnId: string,
      cidrBlock: string,
      dnsLabel: string,
      prohibit: boolean,
    ): RecordedResource =>
      resource(SUBNET, "sn", { vcnId, cidrBlock, dnsLabel, prohibitInternetIngress: prohibit });
    const one = (a: RecordedResource, b: RecordedResource) => first(previewDiff(recording(a), recording(b)));
    expect(
      one(subnet("vcn", "10.0.2.0/24", "engines", true), subnet("vcn", "10.0.2.0/25", "other", false))
        .collisions,
    ).toEqual(["cidrBlock 10.0.2.0/25 is still held by the old resource in the same VCN"]);
    expect(
      one(subnet("vcn", "10.0.2.0/24", "engines", true), subnet("vcn", "10.0.3.0/24", "engines", false))
        .collisions,
    ).toEqual(["dnsLabel engines is still held by the old resource in the same VCN"]);
    expect(
      one(subnet("vcn", "10.0.2.0/24", "engines", true), subnet(UNKNOWN, "10.0.2.0/24", "engines", true))
        .collisions,
    ).toEqual([]);
    const vm = (dbr: boolean): RecordedResource =>
      resource(
        INSTANCE,
        "vm",
        {
          availabilityDomain: dbr ? "AD-2" : "AD-3",
          createVnicDetails: { subnetId: "s", privateIp: "10.0.2.10" },
        },
        { deleteBeforeReplace: dbr },
      );
    const base = resource(INSTANCE, "vm", {
      availabilityDomain: "AD-1",
      createVnicDetails: { subnetId: "s", privateIp: "10.0.2.10" },
    });
    expect(one(base, vm(false)).collisions).toEqual([
      "createVnicDetails.privateIp 10.0.2.10 is still held by the old resource in the same subnet",
    ]);
    expect(one(base, vm(true)).collisions).toEqual([]);
  });

  it("treats an unknown new value as a change, and a path outside the facts as a replacement it names", () => {
    const [cmd, thing] = previewDiff(
      recording(
        resource(COMMAND, "c", { triggers: ["id-1"], create: "x" }),
        resource("test:index:Thing", "t", { x: 1 }),
      ),
      recording(
        resource(COMMAND, "c", { triggers: [UNKNOWN], create: "x" }, { replaceOnChanges: ["triggers[*]"] }),
        resource("test:index:Thing", "t", { x: 2 }),
      ),
    );
    expect([cmd?.op, cmd?.unknown, thing?.op, thing?.unlisted]).toEqual([
      "replace",
      ["triggers"],
      "replace",
      ["x"],
    ]);
    expect(
      formatPreviewDiff(
        "t",
        previewDiff(recording(resource(COMMAND, "gone", {})), recording(resource(COMMAND, "new", {}))),
      ).split("\n"),
    ).toEqual(["t", "  + new; create", "  - gone; delete", "  resources: 1 create, 1 delete"]);
  });
});
