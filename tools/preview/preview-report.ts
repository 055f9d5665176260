/**
 * `npx tsx tools/preview/preview-report.ts`: what `pulumi up` would do, resource by resource, for each
 * change an operator makes (tools/preview/preview-diff.ts planChange, from the mocks). "Before" is the
 * steady state after a first deployment of EXAMPLE_CONFIG, read back through the self StackReference.
 * tests/preview/operator-changes.test.ts asserts the exact plan of every scenario.
 */
import { ProgramRecording, recordProgram } from "./mock-program";
import { Plan, describeDiff, planChange } from "./preview-diff";

/** A stand-in configuration (test values only; no real key, password or OCID). */
export const EXAMPLE_CONFIG: Readonly<Record<string, unknown>> = {
  compartmentId: "ocid1.compartment.oc1..aaaaexamplecompartment",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE example",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nEXAMPLEONLY\n-----END OPENSSH PRIVATE KEY-----\n",
  valkeyPassword: "ExampleValkeyPassword0123456789ab",
  sentinelPassword: "ExampleSentinelPassword0123456789",
  adminCidrs: ["203.0.113.7/32"],
  acknowledgeCharges: true,
  activeColor: "blue",
  releases: { blue: "v1.0.0", green: "v1.0.0" },
  rebuild: { blue: 0, green: 0 },
};

/** A change of one renderer's output (a new version of the code), as the loader applies it. */
export interface RendererChange {
  /** Module under cloud-init/ (without extension). */
  readonly module: string;
  /** The exported render function whose text gets one more comment line. */
  readonly fn: string;
}

export interface Scenario {
  readonly title: string;
  /** Config keys changed from EXAMPLE_CONFIG. */
  readonly change?: Record<string, unknown>;
  /** A renderer whose output changes. */
  readonly renderer?: RendererChange;
  /** The image lookup returns a newer image. */
  readonly newerImage?: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  { title: "activeColor: blue -> green", change: { activeColor: "green" } },
  {
    title: "releases.green: v1.0.0 -> v1.1.0 (release to the standby)",
    change: { releases: { blue: "v1.0.0", green: "v1.1.0" } },
  },
  { title: "rebuild.green: 0 -> 1 (rebuild of the standby)", change: { rebuild: { blue: 0, green: 1 } } },
  {
    title: "renderer change for the gate (HAProxy)",
    renderer: { module: "haproxy", fn: "renderHaproxyConfig" },
  },
  {
    title: "renderer change for an engine (message Valkey)",
    renderer: { module: "valkey", fn: "renderMessageValkey" },
  },
  { title: "adminCidrs: 203.0.113.7/32 -> 203.0.113.8/32", change: { adminCidrs: ["203.0.113.8/32"] } },
  { title: "bootVolumeSizeGbs: 50 -> 60", change: { bootVolumeSizeGbs: 60 } },
  { title: "engineOcpus: 2 -> 1", change: { engineOcpus: 1 } },
  { title: "a newer image from the lookup", newerImage: true },
  {
    title: "rebuild.green with a newer image from the lookup",
    change: { rebuild: { blue: 0, green: 1 } },
    newerImage: true,
  },
  {
    title: "sshPublicKey rotation",
    change: { sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEWKEYNEWKEYNEWKEYNEWKEYNEWKEY rotated" },
  },
  {
    title: "sshPrivateKey rotation",
    change: {
      sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nROTATED\n-----END OPENSSH PRIVATE KEY-----\n",
    },
  },
  { title: "valkeyPassword rotation", change: { valkeyPassword: "RotatedValkeyPassword0123456789ab" } },
  { title: "natGateway: true -> false", change: { natGateway: false } },
  { title: "availabilityDomainIndex: 0 -> 1", change: { availabilityDomainIndex: 1 } },
  { title: "drainSeconds: 30 -> 10", change: { drainSeconds: 10 } },
  {
    title: "rebuild.gate: 0 -> 1 without acceptGateOutage",
    change: { rebuild: { blue: 0, green: 0, gate: 1 } },
  },
  {
    title: "rebuild.gate: 0 -> 1 with acceptGateOutage",
    change: { rebuild: { blue: 0, green: 0, gate: 1 }, acceptGateOutage: true },
  },
];

export function asConfig(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Imports the program afresh, with `renderer` (if any) changed. */
export type Loader = (renderer?: RendererChange) => Promise<unknown>;

/** The text a changed renderer adds (a comment line, valid in every rendered format used here). */
export const RENDERER_CHANGE_LINE = "# renderer change\n";

/** The steady state of EXAMPLE_CONFIG, recorded once per loader: its outputs and its preview. */
const steady = new WeakMap<Loader, Promise<{ outputs: Record<string, unknown>; old: ProgramRecording }>>();

function steadyState(load: Loader): Promise<{ outputs: Record<string, unknown>; old: ProgramRecording }> {
  let known = steady.get(load);
  if (!known) {
    const config = asConfig(EXAMPLE_CONFIG);
    known = (async () => {
      const first = await recordProgram({ config, load: () => load() });
      if (first.error) throw first.error;
      const old = await recordProgram({ config, load: () => load(), previous: first.outputs, preview: true });
      if (old.error) throw old.error;
      return { outputs: first.outputs, old };
    })();
    steady.set(load, known);
  }
  return known;
}

/** The plan of one scenario against the steady state of EXAMPLE_CONFIG. */
export async function planScenario(scenario: Scenario, load: Loader): Promise<Plan> {
  const { outputs, old } = await steadyState(load);
  return planChange({
    before: asConfig(EXAMPLE_CONFIG),
    after: asConfig({ ...EXAMPLE_CONFIG, ...scenario.change }),
    previous: outputs,
    old,
    load: () => load(scenario.renderer),
    imageRevision: { after: scenario.newerImage ? 1 : 0 },
  });
}

/** The lines the report prints for a plan: one per resource that changes (or keeps an old value). */
export function planLines(plan: Plan): string[] {
  // The runtime wraps a refusal in one "error serializing property" per input it reached.
  if (plan.error)
    return [`refused: ${plan.error.message.replace(/^(error serializing property "[^"]*": )+/, "")}`];
  return plan.diffs.filter((d) => d.op !== "same" || d.kept.length > 0).map(describeDiff);
}

export async function previewReport(load: Loader): Promise<string> {
  const parts: string[] = [];
  for (const scenario of SCENARIOS) {
    const plan = await planScenario(scenario, load);
    parts.push([scenario.title, ...planLines(plan).map((l) => `  ${l}`)].join("\n"));
  }
  return parts.join("\n\n");
}

/** Loads program.ts afresh under tsx (CommonJS) and runs it: the project's modules leave the require cache first. */
function loadWithRequire(renderer?: RendererChange): Promise<unknown> {
  for (const key of Object.keys(require.cache)) {
    if (!key.includes(`${"/"}node_modules${"/"}`)) Reflect.deleteProperty(require.cache, key);
  }
  if (renderer) {
    // The fresh module's exports are getters: put a patched copy in the cache before program.ts loads.
    const file = require.resolve(`../../cloud-init/${renderer.module}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- patch the fresh module before program.ts reads it
    const mod = require(file) as Record<string, unknown>;
    const original = mod[renderer.fn] as (...a: unknown[]) => string;
    const cached = require.cache[file];
    if (cached)
      cached.exports = { ...mod, [renderer.fn]: (...a: unknown[]) => original(...a) + RENDERER_CHANGE_LINE };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh CommonJS load on purpose
  const program = require("../../program") as typeof import("../../program");
  return Promise.resolve(program.yquantStack());
}

if (require.main === module) {
  previewReport(loadWithRequire).then(
    (text) => console.log(text),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
