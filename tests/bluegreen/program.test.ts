/**
 * The blue-green pipeline in the real program (index.ts) under mocks. Every scenario runs the program
 * twice: "before" is the steady state after a first deployment (its outputs are what the stack's
 * self StackReference returns), "after" has one config change. previewDiff classifies every resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ProgramRecording, RecordedResource } from "../../tools/preview/mock-program";
import { GATE_PUBLIC_IP } from "../../tools/preview/mock-provider";
import { ResourceDiff, previewDiff } from "../../tools/preview/preview-diff";
import { OCI_COUNTS, SSH_PRIVATE_KEY, record } from "../fixtures";

const COMMAND = "command:remote:Command";
const INSTANCE = "oci:Core/instance:Instance";

function byName(run: ProgramRecording, name: string): RecordedResource {
  const found = run.resources.filter((r) => r.name === name && r.custom);
  expect(found.length, name).toBe(1);
  return found[0] as RecordedResource;
}

/** The resources that are not "same", as `op name [changed paths]`. */
function changes(diffs: ResourceDiff[]): string[] {
  return diffs.filter((d) => d.op !== "same").map((d) => `${d.op} ${d.name} [${d.changed.join(", ")}]`);
}

/** The commands and OCI resources a run registered, by name. */
function registeredOci(run: ProgramRecording): string[] {
  return run.resources
    .filter((r) => r.type === COMMAND || r.type === INSTANCE || r.type.startsWith("oci:Core/"))
    .map((r) => r.name);
}

/** The refusal text: the runtime prefixes it with the properties it was serialising. */
function refusal(run: ProgramRecording): string {
  const message = run.error?.message ?? "";
  return message.slice(message.indexOf("yquant:"));
}

let first: ProgramRecording;
let before: ProgramRecording;
let previous: Record<string, unknown>;

beforeAll(async () => {
  first = await record({});
  expect(first.error).toBeUndefined();
  previous = first.outputs;
  before = await record({}, previous);
  expect(before.error).toBeUndefined();
});

describe("first deployment and steady state", () => {
  it("records what the next update reads back", () => {
    expect(previous["liveColor"]).toBe("blue");
    expect(previous["deployedReleases"]).toEqual({ blue: "v1.0.0", green: "v1.0.0" });
    expect(previous["rebuildGenerations"]).toEqual({ blue: 0, green: 0 });
    const metadata = previous["engineMetadata"] as Record<string, Record<string, string>>;
    expect(Object.keys(metadata.blue ?? {}).sort()).toEqual(["ssh_authorized_keys", "user_data"]);
    expect(metadata.green).toEqual(byName(first, "yq-green-instance").inputs["metadata"]);
  });

  it("reads the stack's own outputs through one StackReference", () => {
    const refs = first.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
    expect(refs.map((r) => [r.name, r.inputs["name"]])).toEqual([["yq-self", "organization/yquant/prod"]]);
  });

  it("changes nothing when the config does not change", () => {
    expect(changes(previewDiff(before, before))).toEqual([]);
    expect(changes(previewDiff(first, before))).toEqual([]);
  });

  it("registers exactly these resources in the whole program, by type", () => {
    const counts: Record<string, number> = {};
    for (const r of before.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts).toEqual({
      ...OCI_COUNTS,
      "command:remote:Command": 6,
      "pulumi:pulumi:Stack": 1,
      "pulumi:pulumi:StackReference": 1,
      "yquant:compute:Converge": 3,
      "yquant:compute:Convergence": 1,
      "random:index/randomPassword:RandomPassword": 10,
      "yquant:compute:Node": 3,
      "yquant:compute:Nodes": 1,
      "yquant:network:GateAddress": 1,
      "yquant:network:Network": 1,
      "yquant:pipeline:BlueGreen": 1,
      "yquant:pipeline:DeploymentHistory": 1,
      "yquant:pipeline:Release": 2,
      "yquant:pipeline:Switch": 1,
      "yquant:security:Secrets": 1,
      "yquant:storage:TokenVolume": 1,
    });
    // Both apps' passwords are set in this config; the other 10 users' are generated (tests/program).
    expect(before.resources).toHaveLength(74);
  });

  it("adds exactly three pipeline commands, three converge commands and the pipeline components", () => {
    const pipeline = before.resources
      .filter((r) => r.type.startsWith("yquant:pipeline:") || r.type === COMMAND)
      .map((r) => `${r.type} ${r.name}`)
      .sort();
    expect(pipeline).toEqual([
      `${COMMAND} yq-blue-converge`,
      `${COMMAND} yq-blue-deploy`,
      `${COMMAND} yq-gate-converge`,
      `${COMMAND} yq-green-converge`,
      `${COMMAND} yq-green-deploy`,
      `${COMMAND} yq-switch-active`,
      "yquant:pipeline:BlueGreen yq",
      "yquant:pipeline:DeploymentHistory yq",
      "yquant:pipeline:Release yq-blue",
      "yquant:pipeline:Release yq-green",
      "yquant:pipeline:Switch yq",
    ]);
  });
});

describe("the switch command", () => {
  it("runs on the gate's public IP as ubuntu, the color in create and update, only the gate instance as trigger", () => {
    const sw = byName(before, "yq-switch-active");
    expect(sw.parent).toBe("yquant:pipeline:Switch::yq");
    const connection = sw.inputs["connection"] as Record<string, unknown>;
    expect([connection["host"], connection["user"], connection["proxy"]]).toEqual([
      GATE_PUBLIC_IP,
      "ubuntu",
      undefined,
    ]);
    expect(connection["privateKey"]).toBe(SSH_PRIVATE_KEY);
    expect(sw.inputs["triggers"]).toEqual(["yq-gate-instance-id"]);
    expect(sw.inputs["create"]).toBe(sw.inputs["update"]);
    const lines = String(sw.inputs["create"]).split("\n");
    expect(lines.slice(0, 2)).toEqual(["set -eu", "rc=0"]);
    expect(lines[2]).toBe("cloud-init status --wait >/dev/null 2>&1 || rc=$?");
    expect(lines[4]).toBe("sudo /opt/yquant/bin/switch-active.sh blue --drain 30");
  });

  it("shows its command in the preview: only the connection (private key) is secret", () => {
    expect(byName(before, "yq-switch-active").secretInputs).toEqual(["connection"]);
    expect(byName(before, "yq-green-deploy").secretInputs).toEqual(["connection"]);
  });

  it("runs after both release commands", () => {
    expect(byName(before, "yq-switch-active").dependsOn).toEqual([
      "yquant:pipeline:Release::yq-blue",
      "yquant:pipeline:Release::yq-green",
    ]);
  });

  it("moves the message master to the new active with promote-master.sh, after the traffic switch", () => {
    const text = String(byName(before, "yq-switch-active").inputs["create"]);
    const lines = text.split("\n");
    const switchAt = lines.indexOf("sudo /opt/yquant/bin/switch-active.sh blue --drain 30");
    const installAt = lines.indexOf(
      "sudo tee /opt/yquant/bin/promote-master.sh.new >/dev/null <<'YQ_SCRIPT'",
    );
    expect(switchAt).toBe(4);
    expect(installAt).toBeGreaterThan(switchAt);
    expect(lines.at(-1)).toBe("sudo /opt/yquant/bin/promote-master.sh blue");
    expect(text).not.toContain("TestSentinelPassword");
  });

  it("leaves the master alone with messageMasterFollowsActive false, and that is an update too", async () => {
    const off = await record({ messageMasterFollowsActive: false }, previous);
    const text = String(byName(off, "yq-switch-active").inputs["create"]);
    expect(text).not.toContain("promote-master");
    expect(text.split("\n").at(-1)).toBe("sudo /opt/yquant/bin/switch-active.sh blue --drain 30");
    expect(changes(previewDiff(before, off))).toEqual(["update yq-switch-active [create, update]"]);
  });
});

describe("toggling activeColor", () => {
  let after: ProgramRecording;
  let diffs: ResourceDiff[];
  beforeAll(async () => {
    after = await record({ activeColor: "green" }, previous);
    expect(after.error).toBeUndefined();
    diffs = previewDiff(before, after);
  });

  it("updates exactly the switch command, in place: only create and update change", () => {
    expect(changes(diffs)).toEqual(["update yq-switch-active [create, update]"]);
    const sw = diffs.find((d) => d.name === "yq-switch-active");
    expect(sw?.replaceBecause).toEqual([]);
  });

  it("leaves the inputs of every other resource identical", () => {
    // Sorted: the converge commands register standby first, so their order follows the color.
    const others = (run: ProgramRecording) =>
      run.resources
        .filter((r) => r.name !== "yq-switch-active")
        .map((r) => [r.type, r.name, r.inputs])
        .sort((a, b) => `${String(a[0])} ${String(a[1])}`.localeCompare(`${String(b[0])} ${String(b[1])}`));
    expect(others(after)).toEqual(others(before));
  });

  it("switches to green and promotes green's message Valkey", () => {
    const text = String(byName(after, "yq-switch-active").inputs["update"]);
    expect(text).toContain("sudo /opt/yquant/bin/switch-active.sh green --drain 30\n");
    expect(text.split("\n").at(-1)).toBe("sudo /opt/yquant/bin/promote-master.sh green");
  });

  it("records the new live color only through the switch", () => {
    expect(after.outputs["liveColor"]).toBe("green");
  });
});

describe("releases", () => {
  it("a new releases.green re-runs only green's release command, as an update", async () => {
    const after = await record({ releases: { blue: "v1.0.0", green: "v1.1.0" } }, previous);
    expect(after.error).toBeUndefined();
    expect(changes(previewDiff(before, after))).toEqual(["update yq-green-deploy [create, update]"]);
    const green = byName(after, "yq-green-deploy");
    expect(String(green.inputs["create"]).split("\n").at(-1)).toBe("sudo /opt/yquant/bin/deploy.sh v1.1.0");
    expect(green.inputs["create"]).toBe(green.inputs["update"]);
  });

  it("reaches the engine's private IP through the gate as jump host, re-run by a new instance", () => {
    const green = byName(before, "yq-green-deploy");
    expect(green.inputs["connection"]).toEqual({
      host: "10.0.2.11",
      user: "ubuntu",
      privateKey: SSH_PRIVATE_KEY,
      dialErrorLimit: 30,
      perDialTimeout: 15,
      port: 22,
      proxy: {
        host: GATE_PUBLIC_IP,
        user: "ubuntu",
        privateKey: SSH_PRIVATE_KEY,
        dialErrorLimit: 30,
        perDialTimeout: 15,
        port: 22,
      },
    });
    expect(green.inputs["triggers"]).toEqual(["yq-green-instance-id"]);
    expect(String(green.inputs["create"])).toContain("yq-green: cloud-init did not finish");
  });

  it("refuses a new release for the active color, before any command or engine is registered", async () => {
    const after = await record({ releases: { blue: "v1.1.0", green: "v1.0.0" } }, previous);
    expect(refusal(after)).toBe(
      'yquant:releases.blue: refusing to deploy "v1.1.0" to blue, the active color (live traffic is on blue, ' +
        'which runs "v1.0.0"). Deploy to the standby instead: npm run bg -- release v1.1.0 (deploys to green), ' +
        "then npm run bg -- switch. To deploy to the active color anyway, set yquant:allowDeployToActive to true.",
    );
    // Everything but the lookups waits for the guard: not even the network is registered.
    expect(registeredOci(after)).toEqual([]);
  });

  it("raises every refusal inside an apply as a pulumi.ResourceError of the deployment history", async () => {
    const refused = await record({ releases: { blue: "v1.1.0", green: "v1.0.0" } }, previous);
    expect(refused.error).toBeInstanceOf(pulumi.ResourceError);
    // A deployment by an older program: the output is missing; blue, asked first, is named.
    const without = (output: string) => ({ ...previous, [output]: undefined });
    const noMetadata = await record({}, without("engineMetadata"));
    expect(noMetadata.error).toBeInstanceOf(pulumi.ResourceError);
    expect(refusal(noMetadata)).toBe(
      "yquant:rebuild.blue: the last deployment recorded no engineMetadata.blue, so the launch metadata of " +
        "yq-blue cannot be kept and a changed user data would replace it. This stack was deployed by a program " +
        'older than the blue-green pipeline; see docs/runbooks/deploy.md, "Adopting".',
    );
    const noInstanceId = await record({}, without("instanceIds"));
    expect(noInstanceId.error).toBeInstanceOf(pulumi.ResourceError);
    expect(refusal(noInstanceId)).toBe(
      "yquant:rebuild.blue: the last deployment recorded no instanceIds.blue, so the image of yq-blue cannot " +
        'be kept and a newer image would reboot it; see docs/runbooks/deploy.md, "Adopting".',
    );
  });

  it("refuses it in `pulumi preview` too, so the PR's preview check fails with the message", async () => {
    const after = await record({ releases: { blue: "v1.1.0", green: "v1.0.0" } }, previous, true);
    expect(refusal(after)).toMatch(/^yquant:releases\.blue: refusing to deploy "v1\.1\.0" to blue/);
    expect(after.resources.filter((r) => r.type === COMMAND)).toEqual([]);
  });

  it("refuses it when the same update also switches away from that color (the deploy runs first)", async () => {
    const after = await record(
      { activeColor: "green", releases: { blue: "v1.1.0", green: "v1.0.0" } },
      previous,
    );
    expect(refusal(after)).toMatch(
      /^yquant:releases\.blue: refusing to deploy "v1\.1\.0" to blue, the active color/,
    );
  });

  it("deploys to the active color when allowDeployToActive is set", async () => {
    const after = await record(
      { allowDeployToActive: true, releases: { blue: "v1.1.0", green: "v1.0.0" } },
      previous,
    );
    expect(after.error).toBeUndefined();
    expect(changes(previewDiff(before, after))).toEqual(["update yq-blue-deploy [create, update]"]);
  });

  it("deploys to the standby and switches to it in one update: both commands, the switch after the deploy", async () => {
    const after = await record(
      { activeColor: "green", releases: { blue: "v1.0.0", green: "v1.1.0" } },
      previous,
    );
    expect(after.error).toBeUndefined();
    expect(changes(previewDiff(before, after))).toEqual([
      "update yq-green-deploy [create, update]",
      "update yq-switch-active [create, update]",
    ]);
    expect(byName(after, "yq-switch-active").dependsOn).toContain("yquant:pipeline:Release::yq-green");
  });
});

describe("rebuilding an engine", () => {
  it("replaces only the standby's instance and its release command, deleting before replacing", async () => {
    const after = await record({ rebuild: { blue: 0, green: 1 } }, previous);
    expect(after.error).toBeUndefined();
    const diffs = previewDiff(before, after);
    expect(changes(diffs)).toEqual([
      'replace yq-green-instance [freeformTags["yquant-rebuild"]]',
      "replace yq-green-deploy [triggers]",
      "replace yq-green-converge [triggers]",
    ]);
    const instance = diffs.find((d) => d.name === "yq-green-instance");
    expect([instance?.replaceBecause, instance?.deleteBeforeReplace]).toEqual([
      ['freeformTags["yquant-rebuild"]'],
      true,
    ]);
    expect(after.outputs["rebuildGenerations"]).toEqual({ blue: 0, green: 1 });
  });

  it("gives every node the rebuild tag, replace-on-change, and decides their metadata itself", () => {
    const options = (name: string) => {
      const r = byName(before, name);
      return [r.ignoreChanges, r.replaceOnChanges, (r.inputs["freeformTags"] as object | undefined) ?? null];
    };
    // The gate too (rebuild.gate, bluegreen/gate-rebuild.ts).
    for (const engine of ["yq-gate-instance", "yq-blue-instance", "yq-green-instance"]) {
      expect(options(engine)).toEqual([[], ['freeformTags["yquant-rebuild"]'], { "yquant-rebuild": "0" }]);
    }
  });

  it("keeps an engine's recorded launch metadata, and a rebuild boots from the CURRENT one", async () => {
    const old = { ssh_authorized_keys: "ssh-ed25519 OLD", user_data: "I2Nsb3VkLWNvbmZpZyBvbGQ=" };
    const metadata = previous["engineMetadata"] as Record<string, unknown>;
    const recorded = { ...previous, engineMetadata: { ...metadata, green: old } };
    const current = byName(before, "yq-green-instance").inputs["metadata"];

    const kept = await record({}, recorded);
    expect(byName(kept, "yq-green-instance").inputs["metadata"]).toEqual(old);
    expect(byName(kept, "yq-blue-instance").inputs["metadata"]).toEqual(metadata["blue"]);

    const rebuilt = await record({ rebuild: { blue: 0, green: 1 } }, recorded);
    expect(byName(rebuilt, "yq-green-instance").inputs["metadata"]).toEqual(current);
    expect(byName(rebuilt, "yq-green-instance").secretInputs).toContain("metadata");
    expect(changes(previewDiff(kept, rebuilt))).toEqual([
      'replace yq-green-instance [freeformTags["yquant-rebuild"], metadata.ssh_authorized_keys, metadata.user_data]',
      "replace yq-green-deploy [triggers]",
      "replace yq-green-converge [triggers]",
    ]);
  });

  it("refuses to rebuild the active color, before any command or engine is registered", async () => {
    const after = await record({ rebuild: { blue: 1, green: 0 } }, previous);
    expect(refusal(after)).toBe(
      "yquant:rebuild.blue: refusing to rebuild blue, the active color (live traffic is on blue). " +
        "Rebuild only the standby: switch to green first (npm run bg -- switch), then npm run bg -- rebuild.",
    );
    // Everything but the lookups waits for the guard: not even the network is registered.
    expect(registeredOci(after)).toEqual([]);
  });

  it("refuses to rebuild the color this update switches to", async () => {
    const after = await record({ activeColor: "green", rebuild: { blue: 0, green: 1 } }, previous);
    expect(refusal(after)).toBe(
      "yquant:rebuild.green: refusing to rebuild green, the active color (this update switches live traffic to green). " +
        "Rebuild only the standby: switch to blue first (npm run bg -- switch), then npm run bg -- rebuild.",
    );
  });
});
