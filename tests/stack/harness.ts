/**
 * The stack tests' view of the one mock runtime (tools/preview/mock-program.ts): runs the Pulumi program
 * (program.ts) with the given config and no previous deployment, recording every resource (inputs with
 * their secret markers), every invoke and every resource's options; any un-mocked invoke throws.
 * Config is set before the program is imported, and the module registry is reset so the program can
 * run more than once in one test file.
 */
import { vi } from "vitest";
import { TOPOLOGY, Topology } from "../../cloud-init/layout";
import { recordProgram } from "../../tools/preview/mock-program";
import type { RecordedInvoke } from "../../tools/preview/mock-program";

export {
  AVAILABILITY_DOMAINS,
  GATE_PRIMARY_PRIVATE_IP_ID,
  GATE_PUBLIC_IP,
  SECRET_SIG,
  SECRET_SIG_KEY,
  imageIdFor,
  isSecretMarker,
  unwrapSecrets,
} from "../../tools/preview/mock-program";
export type { RecordedInvoke } from "../../tools/preview/mock-program";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** As the runtime passed them: secret markers in place. */
  readonly inputs: Record<string, unknown>;
}

export interface RecordedOptions {
  readonly type: string;
  readonly name: string;
  readonly ignoreChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly hasParent: boolean;
}

export interface ProgramRun {
  readonly resources: RecordedResource[];
  readonly invokes: RecordedInvoke[];
  readonly options: RecordedOptions[];
  /** The stack outputs, resolved, secrets unwrapped. */
  readonly outputs: Record<string, unknown>;
  /** What the program threw while it was imported, if anything. */
  readonly error: unknown;
}

/** Config keys without the namespace; values as Pulumi passes them (strings, JSON for lists/objects). */
export async function runProgram(
  config: Record<string, string>,
  topology: Topology = TOPOLOGY,
): Promise<ProgramRun> {
  const recording = await recordProgram({
    config,
    load: () => {
      vi.resetModules();
      return import("../../program").then((program) => program.yquantStack(topology));
    },
  });
  return {
    resources: recording.resources.map(({ type, name, custom, markedInputs }) => ({
      type,
      name,
      custom,
      inputs: markedInputs,
    })),
    invokes: recording.invokes,
    options: recording.options.map(({ type, name, ignoreChanges, deleteBeforeReplace, parent }) => ({
      type,
      name,
      ignoreChanges,
      deleteBeforeReplace,
      hasParent: parent !== undefined,
    })),
    outputs: recording.outputs,
    error: recording.error,
  };
}

/** The outputs stack core exports (the pipeline adds its own). */
export const CORE_OUTPUTS = [
  "activeColor",
  "standbyColor",
  "gatePublicIp",
  "liveUrl",
  "stagingUrl",
  "privateIps",
  "instanceIds",
  "sentinels",
  "costEstimate",
];

/** Resources of one type, custom only. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.custom && r.type === type);
}

/** `{ type: count }` over custom resources. */
export function countByType(run: ProgramRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
