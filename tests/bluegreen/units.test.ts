/** Pure parts of the pipeline: the guard's messages and the command builders (previewDiff: tests/preview). */
import { describe, expect, it } from "vitest";
import { RELEASE_REF_RULE } from "../../rules";
import { releaseCommand, releaseRefProblem, switchCommand } from "../../bluegreen/commands";
import {
  NO_PREVIOUS_DEPLOYMENT,
  PipelineIntent,
  PipelineRefusal,
  assertPipelineAllowed,
  engineLaunchMetadata,
  pipelineRefusals,
  previousFromOutputs,
  rebuildPending,
} from "../../bluegreen/guard";

const intent = (over: Partial<PipelineIntent> = {}): PipelineIntent => ({
  activeColor: "blue",
  releases: { blue: "v1", green: "v1" },
  allowDeployToActive: false,
  rebuild: { blue: 0, green: 0 },
  ...over,
});
const deployed = previousFromOutputs({
  instanceIds: {},
  liveColor: "blue",
  deployedReleases: { blue: "v1", green: "v1" },
  rebuildGenerations: { blue: 0, green: 0 },
  engineMetadata: { blue: { user_data: "b" }, green: { user_data: "g" } },
});

describe("guard", () => {
  it("reads a new stack as not deployed and ignores malformed outputs", () => {
    expect(previousFromOutputs(undefined)).toEqual(NO_PREVIOUS_DEPLOYMENT);
    expect(previousFromOutputs({})).toEqual(NO_PREVIOUS_DEPLOYMENT);
    expect(previousFromOutputs({ liveColor: "purple", deployedReleases: { blue: "v1" } })).toEqual({
      deployed: true,
      liveColor: undefined,
      deployedReleases: undefined,
      rebuildGenerations: undefined,
      engineMetadata: undefined,
    });
  });

  it("refuses nothing on a first deployment", () => {
    expect(
      pipelineRefusals(NO_PREVIOUS_DEPLOYMENT, intent({ releases: { blue: "v9", green: "v9" } })),
    ).toEqual([]);
  });

  it("allows a release to the standby and an unchanged release of the active color", () => {
    expect(pipelineRefusals(deployed, intent({ releases: { blue: "v1", green: "v2" } }))).toEqual([]);
  });

  it("collects every refusal in one error, releases first", () => {
    const wanted = intent({ releases: { blue: "v2", green: "v1" }, rebuild: { blue: 3, green: 0 } });
    expect(() => assertPipelineAllowed(deployed, wanted)).toThrow(PipelineRefusal);
    expect(pipelineRefusals(deployed, wanted).map((r) => r.slice(0, 40))).toEqual([
      "yquant:releases.blue: refusing to deploy",
      "yquant:rebuild.blue: refusing to rebuild",
    ]);
  });

  it("knows a pending rebuild only from a recorded counter", () => {
    expect(rebuildPending(NO_PREVIOUS_DEPLOYMENT, intent({ rebuild: { blue: 0, green: 5 } }), "green")).toBe(
      false,
    );
    expect(rebuildPending(deployed, intent({ rebuild: { blue: 0, green: 5 } }), "green")).toBe(true);
    expect(rebuildPending(deployed, intent(), "green")).toBe(false);
  });

  it("chooses the launch metadata: recorded, or current on create and rebuild, refusing when none is recorded", () => {
    const now = { user_data: "now" };
    expect(engineLaunchMetadata(NO_PREVIOUS_DEPLOYMENT, intent(), "green", now)).toBe(now);
    expect(engineLaunchMetadata(deployed, intent(), "green", now)).toEqual({ user_data: "g" });
    expect(engineLaunchMetadata(deployed, intent({ rebuild: { blue: 0, green: 1 } }), "green", now)).toBe(
      now,
    );
    const old = previousFromOutputs({ instanceIds: {}, liveColor: "blue" });
    expect(() => engineLaunchMetadata(old, intent(), "green", now)).toThrow(
      "yquant:rebuild.green: the last deployment recorded no engineMetadata.green, so the launch metadata of " +
        "yq-green cannot be kept and a changed user data would replace it. This stack was deployed by a program " +
        'older than the blue-green pipeline; see docs/runbooks/deploy.md, "Adopting".',
    );
  });
});

describe("commands", () => {
  it("validates release refs as deploy.sh does", () => {
    expect(releaseRefProblem("v1.2.3")).toBeUndefined();
    expect(releaseRefProblem("feature/x_1")).toBeUndefined();
    expect(releaseRefProblem("a..b")).toBe(
      "\"a..b\" is not a release ref: use 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without \"..\"",
    );
    for (const bad of ["", "-x", "v1;rm -rf /", "$(id)", "a b", "x".repeat(101)]) {
      expect(releaseRefProblem(bad), bad).toBe(`"${bad}" is not a release ref: use ${RELEASE_REF_RULE}`);
    }
    expect(() => releaseCommand("yq-blue", "v1 && reboot")).toThrow("releaseCommand:");
  });

  it("builds the release command: wait for cloud-init, then deploy.sh", () => {
    expect(releaseCommand("yq-blue", "v2").split("\n")).toEqual([
      "set -eu",
      "rc=0",
      "cloud-init status --wait >/dev/null 2>&1 || rc=$?",
      `if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then echo "yq-blue: cloud-init did not finish (status $rc): $(cloud-init status --long 2>&1 | tr '\\n' ' ')" >&2; exit 1; fi`,
      "sudo /opt/yquant/bin/deploy.sh v2",
    ]);
  });

  it("refuses a bad color or drain in the switch command", () => {
    const args = {
      color: "green" as const,
      drainSeconds: 30,
      messageMasterFollowsActive: false,
    };
    expect(() => switchCommand({ ...args, drainSeconds: 3601 })).toThrow(
      "switchCommand: drainSeconds 3601 is not a whole number of seconds from 0 to 3600",
    );
    expect(() => switchCommand({ ...args, color: "red" as never })).toThrow(
      'switchCommand: unknown color "red"',
    );
    expect(
      switchCommand({ ...args, drainSeconds: 0 })
        .split("\n")
        .at(-1),
    ).toBe("sudo /opt/yquant/bin/switch-active.sh green --drain 0");
  });
});
