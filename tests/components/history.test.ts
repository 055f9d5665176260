/**
 * DeploymentHistory built on its own under the one mock runtime (tests/fixtures.ts `build`, whose
 * StackReference to the stack itself answers with the outputs given): what it reads of the last
 * deployment, what stays secret, and the guard's refusal as a ResourceError of the component.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { NO_PREVIOUS_DEPLOYMENT } from "../../bluegreen/guard";
import { DeploymentHistory } from "../../bluegreen/history";
import { build } from "../fixtures";

const METADATA = {
  blue: { ssh_authorized_keys: "ssh-ed25519 AAAA blue", user_data: "Ymx1ZQ==" },
  green: { ssh_authorized_keys: "ssh-ed25519 AAAA green", user_data: "Z3JlZW4=" },
};
const DEPLOYED = {
  instanceIds: { gate: "gate-id", blue: "blue-id", green: "green-id" },
  liveColor: "green",
  deployedReleases: { blue: "v1", green: "v2" },
  rebuildGenerations: { blue: 0, green: 1 },
  engineMetadata: METADATA,
  placement: { natGateway: true, availabilityDomainIndex: 0 },
};
const INTENT = {
  activeColor: "green" as const,
  releases: { blue: "v1", green: "v2" },
  allowDeployToActive: false,
  rebuild: { blue: 0, green: 1 },
};

function history(previous?: Record<string, unknown>) {
  return build(() => {
    const h = new DeploymentHistory("t");
    return {
      stackName: h.stackName,
      previous: h.previous,
      engineMetadata: h.engineMetadata,
      placement: h.recorded("placement"),
      guarded: h.guarded(INTENT),
      secret: pulumi.output(
        Promise.all([
          pulumi.isSecret(h.previous),
          pulumi.isSecret(h.engineMetadata),
          pulumi.isSecret(h.recorded("placement")),
        ]),
      ),
    };
  }, previous);
}

describe("DeploymentHistory", () => {
  it("reads this stack through one StackReference, its child", async () => {
    const r = await history();
    expect(
      r.resources
        .filter((x) => x.type !== "pulumi:pulumi:Stack")
        .map((x) => [`${x.type} ${x.name} <- ${x.parent ?? "(root)"}`, x.inputs]),
    ).toEqual([
      ["yquant:pipeline:DeploymentHistory t <- (root)", {}],
      [
        "pulumi:pulumi:StackReference t-self <- yquant:pipeline:DeploymentHistory::t",
        { name: "organization/yquant/prod" },
      ],
    ]);
    expect(r.outputs["stackName"]).toBe("organization/yquant/prod");
  });

  it("reads a stack without outputs as not deployed", async () => {
    const r = await history();
    expect(r.outputs["previous"]).toEqual(NO_PREVIOUS_DEPLOYMENT);
    expect(r.outputs["engineMetadata"]).toBeUndefined();
    expect(r.outputs["placement"]).toBeUndefined();
    expect(r.outputs["guarded"]).toEqual(NO_PREVIOUS_DEPLOYMENT);
  });

  it("reads the last deployment's live color, releases and counters as plain values, the metadata as a secret", async () => {
    const r = await history(DEPLOYED);
    expect(r.outputs["previous"]).toEqual({
      deployed: true,
      liveColor: "green",
      deployedReleases: { blue: "v1", green: "v2" },
      rebuildGenerations: { blue: 0, green: 1 },
      engineMetadata: undefined,
    });
    expect(r.outputs["engineMetadata"]).toEqual(METADATA);
    expect(r.outputs["placement"]).toEqual({ natGateway: true, availabilityDomainIndex: 0 });
    expect(r.outputs["secret"]).toEqual([false, true, false]);
    expect(r.outputs["guarded"]).toEqual(r.outputs["previous"]);
  });

  it("refuses an intent the guard refuses, as a ResourceError of the component naming the rule", async () => {
    const error: unknown = await build(() => {
      const h = new DeploymentHistory("t");
      return { guarded: h.guarded({ ...INTENT, releases: { blue: "v1", green: "v3" } }) };
    }, DEPLOYED).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    expect((error as Error).message).toBe(
      'yquant:releases.green: refusing to deploy "v3" to green, the active color (live traffic is on green, ' +
        'which runs "v2"). Deploy to the standby instead: npm run bg -- release v3 (deploys to blue), then ' +
        "npm run bg -- switch. To deploy to the active color anyway, set yquant:allowDeployToActive to true.",
    );
  });
});
