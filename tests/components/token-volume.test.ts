/**
 * TokenVolume built on its own under the one mock runtime (tests/fixtures.ts `build`): the volume,
 * its weekly backup policy and assignment, and the attachment to the instance given, with the options
 * that keep the tokens through a gate rebuild and a stack destroy.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { TokenVolume } from "../../components/token-volume";
import type { ProgramRecording, RecordedResource } from "../../tools/preview/mock-program";
import { TYPES, build, registered } from "../fixtures";

const ARGS = {
  compartmentId: "ocid1.compartment.oc1..tokens",
  availabilityDomain: "Uocm:AP-SEOUL-1-AD-1",
  instanceId: "ocid1.instance.oc1..gate",
  hostname: "yq-gate",
};

let r: ProgramRecording;
beforeAll(async () => {
  r = await build(() => {
    const v = new TokenVolume("t", ARGS);
    return { volumeId: v.volumeId, attachmentId: v.attachmentId };
  });
});

const byName = (type: string, name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.type === type && x.name === name);
  expect(found).toHaveLength(1);
  return found[0] as RecordedResource;
};
const options = (x: RecordedResource) => ({
  protect: x.protect,
  retainOnDelete: x.retainOnDelete,
  deleteBeforeReplace: x.deleteBeforeReplace,
});

describe("TokenVolume", () => {
  it("registers the volume, the backup policy and its assignment, and the attachment, as its children", () => {
    const parent = "yquant:storage:TokenVolume::t";
    // Sorted: the mock runtime records a resource when its registration completes.
    expect(registered(r).sort()).toEqual([
      `${TYPES.volume} t-tokens <- ${parent}`,
      `${TYPES.volumeAttachment} t-tokens-attachment <- ${parent}`,
      `${TYPES.volumeBackupPolicy} t-tokens-backup <- ${parent}`,
      `${TYPES.volumeBackupPolicyAssignment} t-tokens-backup <- ${parent}`,
      "yquant:storage:TokenVolume t <- (root)",
    ]);
    expect(r.invokes).toEqual([]);
  });

  it("makes a 50 GB volume in the instance's availability domain, protected and kept on delete", () => {
    const volume = byName(TYPES.volume, "t-tokens");
    expect(volume.inputs).toEqual({
      compartmentId: ARGS.compartmentId,
      availabilityDomain: ARGS.availabilityDomain,
      displayName: "yq-gate-tokens",
      sizeInGbs: "50",
    });
    expect(options(volume)).toEqual({ protect: true, retainOnDelete: true, deleteBeforeReplace: false });
  });

  it("backs it up weekly (incremental, Sunday 03:00 UTC, kept 21 days)", () => {
    expect(byName(TYPES.volumeBackupPolicy, "t-tokens-backup").inputs).toEqual({
      compartmentId: ARGS.compartmentId,
      displayName: "yq-gate-tokens-weekly",
      schedules: [
        {
          backupType: "INCREMENTAL",
          period: "ONE_WEEK",
          dayOfWeek: "SUNDAY",
          hourOfDay: 3,
          offsetType: "STRUCTURED",
          retentionSeconds: 1_814_400,
          timeZone: "UTC",
        },
      ],
    });
    const assignment = byName(TYPES.volumeBackupPolicyAssignment, "t-tokens-backup");
    expect(Object.keys(assignment.inputs).sort()).toEqual(["assetId", "policyId"]);
    expect(options(assignment)).toEqual({
      protect: false,
      retainOnDelete: false,
      deleteBeforeReplace: true,
    });
  });

  it("attaches it paravirtualized to the instance, deleted before it is replaced", () => {
    const attachment = byName(TYPES.volumeAttachment, "t-tokens-attachment");
    expect({ ...attachment.inputs, volumeId: "<volume>" }).toEqual({
      attachmentType: "paravirtualized",
      instanceId: ARGS.instanceId,
      volumeId: "<volume>",
      displayName: "yq-gate-tokens",
    });
    expect(attachment.inputs["volumeId"]).toBe(r.outputs["volumeId"]);
    expect(options(attachment)).toEqual({ protect: false, retainOnDelete: false, deleteBeforeReplace: true });
  });
});
