/**
 * `npx tsx tools/preview/preview-report.ts`: the preview-equivalent diff, from the mocks, of the three
 * pipeline steps that change the stack: activeColor toggled, releases.green changed, and a rebuild of
 * the standby (green). "Before" is the steady state after a first deployment of the example config.
 */
import { ProgramRecording, recordProgram } from "./mock-program";
import { formatPreviewDiff, previewDiff } from "./preview-diff";

/** A stand-in configuration (test values only; no real key or OCID). */
export const EXAMPLE_CONFIG: Readonly<Record<string, unknown>> = {
  compartmentId: "ocid1.compartment.oc1..aaaaexamplecompartment",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE example",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nEXAMPLEONLY\n-----END OPENSSH PRIVATE KEY-----\n",
  adminCidrs: ["203.0.113.7/32"],
  acknowledgeCharges: true,
  activeColor: "blue",
  releases: { blue: "v1.0.0", green: "v1.0.0" },
  rebuild: { blue: 0, green: 0 },
};

export const SCENARIOS: readonly { title: string; change: Record<string, unknown> }[] = [
  { title: "1. activeColor: blue -> green", change: { activeColor: "green" } },
  { title: "2. releases.green: v1.0.0 -> v1.1.0", change: { releases: { blue: "v1.0.0", green: "v1.1.0" } } },
  { title: "3. rebuild.green: 0 -> 1 (green is the standby)", change: { rebuild: { blue: 0, green: 1 } } },
];

function asConfig(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Runs the scenarios against the program `load` imports afresh, and returns the report text. */
export async function previewReport(load: () => Promise<unknown>): Promise<string> {
  const run = (
    change: Record<string, unknown>,
    previous?: Record<string, unknown>,
  ): Promise<ProgramRecording> =>
    recordProgram({ config: asConfig({ ...EXAMPLE_CONFIG, ...change }), previous, load, preview: true });
  const first = await run({});
  if (first.error) throw first.error;
  const before = await run({}, first.outputs);
  if (before.error) throw before.error;
  const parts: string[] = [];
  for (const scenario of SCENARIOS) {
    const after = await run(scenario.change, first.outputs);
    if (after.error) throw after.error;
    parts.push(formatPreviewDiff(scenario.title, previewDiff(before, after)));
  }
  return parts.join("\n\n");
}

/** Loads index.ts afresh under tsx (CommonJS): the project's modules leave the require cache first. */
function loadWithRequire(): Promise<unknown> {
  for (const key of Object.keys(require.cache)) {
    if (!key.includes(`${"/"}node_modules${"/"}`)) Reflect.deleteProperty(require.cache, key);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh CommonJS load on purpose
  return Promise.resolve(require("../../index") as unknown);
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
