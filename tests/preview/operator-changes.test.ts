/**
 * The table of operator changes: each one driven through the real program (program.ts under the mock
 * runtime) against the steady state of a first deployment, with the exact plan `pulumi up` would
 * carry out per resource (tools/preview/preview-diff.ts planChange, on the provider facts).
 * `npx tsx tools/preview/preview-report.ts` prints the same table.
 */
import { describe, expect, it, vi } from "vitest";
import { recordProgram } from "../../tools/preview/mock-program";
import { classifyPath } from "../../tools/preview/provider-rules";
import {
  EXAMPLE_CONFIG,
  RENDERER_CHANGE_LINE,
  RendererChange,
  SCENARIOS,
  asConfig,
  planLines,
  planScenario,
} from "../../tools/preview/preview-report";

async function load(renderer?: RendererChange): Promise<unknown> {
  vi.resetModules();
  if (renderer) {
    vi.doMock(`../../cloud-init/${renderer.module}`, async (importOriginal) => {
      const original = await importOriginal<Record<string, unknown>>();
      const fn = original[renderer.fn] as (...a: unknown[]) => string;
      return { ...original, [renderer.fn]: (...a: unknown[]) => fn(...a) + RENDERER_CHANGE_LINE };
    });
  }
  try {
    return (await import("../../program")).yquantStack();
  } finally {
    if (renderer) vi.doUnmock(`../../cloud-init/${renderer.module}`);
  }
}

/** Every leaf input path of a value (objects walked, arrays and scalars are leaves). */
function leaves(value: unknown, prefix = ""): string[] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) =>
      leaves(v, `${prefix}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `["${k}"]`}`),
    );
  }
  return [prefix.replace(/^\./, "")];
}

it("every input the program gives a resource is in the provider facts (nothing is classified by guess)", async () => {
  for (const extra of [{}, { natGateway: false }]) {
    const run = await recordProgram({
      config: asConfig({ ...EXAMPLE_CONFIG, ...extra }),
      load: () => load(),
    });
    expect(run.error).toBeUndefined();
    const unlisted = run.resources
      .filter((r) => r.custom && r.type !== "pulumi:pulumi:StackReference")
      .flatMap((r) =>
        leaves(r.inputs)
          .filter((p) => classifyPath(r.type, p) === "unlisted")
          .map((p) => `${r.type} ${p}`),
      );
    expect(unlisted).toEqual([]);
  }
});

const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  "activeColor: blue -> green": ["~ yq-switch-active; update (create, update)"],
  "releases.green: v1.0.0 -> v1.1.0 (release to the standby)": ["~ yq-green-deploy; update (create, update)"],
  "rebuild.green: 0 -> 1 (rebuild of the standby)": [
    '+- yq-green-instance; replace (freeformTags["yquant-rebuild"]) delete-first',
    "+- yq-green-deploy; replace (triggers)",
    "+- yq-green-converge; replace (triggers)",
  ],
  "renderer change for the gate (HAProxy)": ["+- yq-gate-converge; replace (triggers); new stdin"],
  "renderer change for an engine (message Valkey)": [
    "+- yq-green-converge; replace (triggers); new stdin",
    "+- yq-blue-converge; replace (triggers); new stdin",
  ],
  "adminCidrs: 203.0.113.7/32 -> 203.0.113.8/32": [
    "+ yq-gate-22-from-203-0-113-8-32; create",
    "+ yq-gate-8080-from-203-0-113-8-32; create",
    "+ yq-gate-8404-from-203-0-113-8-32; create",
    "+- yq-gate-converge; replace (triggers); new stdin",
    "- yq-gate-22-from-203-0-113-7-32; delete",
    "- yq-gate-8080-from-203-0-113-7-32; delete",
    "- yq-gate-8404-from-203-0-113-7-32; delete",
  ],
  "bootVolumeSizeGbs: 50 -> 60": [
    "~ yq-gate-instance; update (sourceDetails.bootVolumeSizeInGbs); in place with side effects (sourceDetails.bootVolumeSizeInGbs)",
    "~ yq-blue-instance; update (sourceDetails.bootVolumeSizeInGbs); in place with side effects (sourceDetails.bootVolumeSizeInGbs)",
    "~ yq-green-instance; update (sourceDetails.bootVolumeSizeInGbs); in place with side effects (sourceDetails.bootVolumeSizeInGbs)",
  ],
  "engineOcpus: 2 -> 1": ["~ yq-green-instance; update (shapeConfig.ocpus); REBOOTS (shapeConfig.ocpus)"],
  "a newer image from the lookup": [],
  "rebuild.green with a newer image from the lookup": [
    '+- yq-green-instance; replace (freeformTags["yquant-rebuild"]) delete-first; new sourceDetails.sourceId',
    "+- yq-green-deploy; replace (triggers)",
    "+- yq-green-converge; replace (triggers)",
  ],
  "sshPublicKey rotation": [
    "+- yq-green-converge; replace (triggers); new stdin",
    "+- yq-blue-converge; replace (triggers); new stdin",
    "+- yq-gate-converge; replace (triggers); new stdin",
  ],
  "sshPrivateKey rotation": [
    "~ yq-blue-deploy; update (connection.privateKey, connection.proxy.privateKey)",
    "~ yq-green-deploy; update (connection.privateKey, connection.proxy.privateKey)",
    "~ yq-green-converge; update (connection.privateKey, connection.proxy.privateKey)",
    "~ yq-switch-active; update (connection.privateKey)",
    "~ yq-blue-converge; update (connection.privateKey, connection.proxy.privateKey)",
    "~ yq-gate-converge; update (connection.privateKey)",
  ],
  "valkeyPassword rotation": [
    "+- yq-green-converge; replace (triggers); new stdin",
    "+- yq-blue-converge; replace (triggers); new stdin",
    "+- yq-gate-converge; replace (triggers); new stdin",
  ],
  "natGateway: true -> false": [
    'refused: yquant:natGateway: refusing to change it from true to false. The engine subnet\'s prohibitPublicIpOnVnic/prohibitInternetIngress are fixed at creation, so the subnet would be replaced create-before-delete with the same CIDR and DNS label (OCI refuses both while the old subnet exists), and both engines with it in one update. Nothing was changed. It is a planned full outage: see docs/runbooks/day2.md, "Network placement".',
  ],
  "availabilityDomainIndex: 0 -> 1": [
    'refused: yquant:availabilityDomainIndex: refusing to change it from 0 to 1. The availability domain is fixed at creation: the gate, blue and green would all be replaced in one update (a full outage, new boot volumes). Nothing was changed. See docs/runbooks/day2.md, "Network placement".',
  ],
  "drainSeconds: 30 -> 10": [
    "~ yq-switch-active; update (create, update)",
    "+- yq-gate-converge; replace (triggers); new stdin",
  ],
  "rebuild.gate: 0 -> 1 without acceptGateOutage": [
    "refused: yquant:rebuild.gate: refusing to rebuild the gate (0 -> 1) without yquant:acceptGateOutage. A gate rebuild replaces yq-gate: live traffic, the token Valkey and the gate's Sentinel are down until the new instance has booted (docs/runbooks/gate-rebuild.md has the measured outage); the tokens are kept on their volume. To accept the outage, set yquant:acceptGateOutage to true; or set rebuild.gate back to 0. Nothing was changed.",
  ],
  "rebuild.gate: 0 -> 1 with acceptGateOutage": [
    '+- yq-gate-instance; replace (freeformTags["yquant-rebuild"]) delete-first',
    "+- yq-gate-tokens-attachment; replace (instanceId) delete-first",
    "~ yq-gate-public-ip; update (privateIpId)",
    "+- yq-switch-active; replace (triggers)",
    "+- yq-gate-converge; replace (triggers)",
  ],
};

describe("the token volume across a gate rebuild", () => {
  it("keeps the volume, its backup policy and assignment; replaces only the attachment", async () => {
    const scenario = SCENARIOS.find((s) => s.title === "rebuild.gate: 0 -> 1 with acceptGateOutage");
    expect(scenario).toBeDefined();
    const plan = await planScenario(scenario as (typeof SCENARIOS)[number], load);
    expect(plan.error).toBeUndefined();
    const storage = plan.diffs
      .filter((d) => /^oci:Core\/volume/.test(d.type))
      .map((d) => `${d.type} ${d.name} ${d.op}${d.deleteBeforeReplace ? " delete-first" : ""}`);
    expect(storage.sort()).toEqual([
      "oci:Core/volume:Volume yq-gate-tokens same",
      "oci:Core/volumeAttachment:VolumeAttachment yq-gate-tokens-attachment replace delete-first",
      "oci:Core/volumeBackupPolicy:VolumeBackupPolicy yq-gate-tokens-backup same",
      "oci:Core/volumeBackupPolicyAssignment:VolumeBackupPolicyAssignment yq-gate-tokens-backup same delete-first",
    ]);
    // Nothing on the engines: no instance, release or converge of blue or green.
    expect(plan.diffs.filter((d) => /yq-(blue|green)/.test(d.name) && d.op !== "same")).toEqual([]);
  });
});

describe("operator changes: the exact plan per resource", () => {
  for (const scenario of SCENARIOS) {
    it(scenario.title, async () => {
      const plan = await planScenario(scenario, load);
      const lines = planLines(plan);
      console.log([scenario.title, ...lines.map((l) => `  ${l}`)].join("\n"));
      expect(lines).toEqual(EXPECTED[scenario.title]);
    });
  }
});
