/**
 * The pipeline's guard: what the stack's LAST deployment recorded (its own outputs, read through a
 * self StackReference, see bluegreen/history.ts) against what this update asks for. Pure, so the
 * refusals are tested with exact messages; the program applies them before it registers the
 * resources they concern, and a refused update fails in `pulumi preview` already.
 */
import { Color, COLORS, otherColor } from "./commands";

/** The stack outputs the guard reads (written by index.ts, see docs/architecture.md). */
export const OUTPUT_NAMES = {
  liveColor: "liveColor",
  deployedReleases: "deployedReleases",
  rebuildGenerations: "rebuildGenerations",
  engineMetadata: "engineMetadata",
} as const;

/** The instance launch metadata OCI keeps (`user_data` is base64 cloud-config). */
export type LaunchMetadata = Readonly<Record<string, string>>;

/** What the last deployment recorded; every field is undefined on a stack that has none. */
export interface PreviousDeployment {
  /** True when the stack has any recorded output at all (it was deployed before). */
  readonly deployed: boolean;
  /** The color live traffic went to when the last update finished. */
  readonly liveColor?: Color;
  /** The release each engine ran when the last update finished. */
  readonly deployedReleases?: Readonly<Record<Color, string>>;
  /** The rebuild counter each engine instance was created under. */
  readonly rebuildGenerations?: Readonly<Record<Color, number>>;
  /** The launch metadata each engine instance was created with. */
  readonly engineMetadata?: Readonly<Record<Color, LaunchMetadata>>;
}

/** The part of the stack configuration the guard checks. */
export interface PipelineIntent {
  readonly activeColor: Color;
  readonly releases: Readonly<Record<Color, string>>;
  readonly allowDeployToActive: boolean;
  readonly rebuild: Readonly<Record<Color, number>>;
}

export const NO_PREVIOUS_DEPLOYMENT: PreviousDeployment = { deployed: false };

function colorMap<T>(value: unknown, check: (item: unknown) => item is T): Record<Color, T> | undefined {
  if (!value || typeof value !== "object") return undefined;
  const record = value as Record<string, unknown>;
  return COLORS.every((c) => check(record[c]))
    ? ({ blue: record["blue"], green: record["green"] } as Record<Color, T>)
    : undefined;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isCounter = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isMetadata = (v: unknown): v is LaunchMetadata =>
  !!v && typeof v === "object" && Object.values(v as object).every((x) => typeof x === "string");

/** Reads the recorded outputs (as a StackReference returns them; undefined for a new stack). */
export function previousFromOutputs(outputs: Record<string, unknown> | undefined): PreviousDeployment {
  if (!outputs || Object.keys(outputs).length === 0) return NO_PREVIOUS_DEPLOYMENT;
  const live = outputs[OUTPUT_NAMES.liveColor];
  return {
    deployed: true,
    liveColor: live === "blue" || live === "green" ? live : undefined,
    deployedReleases: colorMap(outputs[OUTPUT_NAMES.deployedReleases], isString),
    rebuildGenerations: colorMap(outputs[OUTPUT_NAMES.rebuildGenerations], isCounter),
    engineMetadata: colorMap(outputs[OUTPUT_NAMES.engineMetadata], isMetadata),
  };
}

/** The release refusal for `color`, or undefined. The live color is the one before this update. */
export function releaseRefusal(
  previous: PreviousDeployment,
  intent: PipelineIntent,
  color: Color,
): string | undefined {
  const live = previous.liveColor;
  const before = previous.deployedReleases?.[color];
  const wanted = intent.releases[color];
  if (live !== color || before === undefined || before === wanted || intent.allowDeployToActive)
    return undefined;
  return (
    `yquant:releases.${color}: refusing to deploy "${wanted}" to ${color}, the active color ` +
    `(live traffic is on ${color}, which runs "${before}"). Deploy to the standby instead: ` +
    `npm run bg -- release ${wanted} (deploys to ${otherColor(color)}), then npm run bg -- switch. ` +
    `To deploy to the active color anyway, set yquant:allowDeployToActive to true.`
  );
}

/** True when this update rebuilds `color`: its counter differs from the one its instance was created under. */
export function rebuildPending(previous: PreviousDeployment, intent: PipelineIntent, color: Color): boolean {
  const before = previous.rebuildGenerations?.[color];
  return before !== undefined && before !== intent.rebuild[color];
}

/** The rebuild refusal for `color`, or undefined: never the color that is or becomes active. */
export function rebuildRefusal(
  previous: PreviousDeployment,
  intent: PipelineIntent,
  color: Color,
): string | undefined {
  if (!rebuildPending(previous, intent, color)) return undefined;
  if (previous.liveColor !== color && intent.activeColor !== color) return undefined;
  const why =
    previous.liveColor === color
      ? `live traffic is on ${color}`
      : `this update switches live traffic to ${color}`;
  return (
    `yquant:rebuild.${color}: refusing to rebuild ${color}, the active color (${why}). ` +
    `Rebuild only the standby: switch to ${otherColor(color)} first (npm run bg -- switch), ` +
    `then npm run bg -- rebuild.`
  );
}

/** Every refusal of this update, in a fixed order (releases, then rebuilds; blue, then green). */
export function pipelineRefusals(previous: PreviousDeployment, intent: PipelineIntent): string[] {
  const refusals: string[] = [];
  for (const color of COLORS) {
    const r = releaseRefusal(previous, intent, color);
    if (r) refusals.push(r);
  }
  for (const color of COLORS) {
    const r = rebuildRefusal(previous, intent, color);
    if (r) refusals.push(r);
  }
  return refusals;
}

/** Throws one Error carrying every refusal (one per line), or returns. */
export function assertPipelineAllowed(previous: PreviousDeployment, intent: PipelineIntent): void {
  const refusals = pipelineRefusals(previous, intent);
  if (refusals.length > 0) throw new PipelineRefusal(refusals);
}

export class PipelineRefusal extends Error {
  constructor(public readonly refusals: readonly string[]) {
    super(refusals.join("\n"));
    this.name = "PipelineRefusal";
  }
}

/**
 * The launch metadata an engine instance keeps. OCI cannot change `user_data` or
 * `ssh_authorized_keys` of a running instance (a change replaces it), so an engine keeps the metadata
 * it was created with, recorded in the stack output `engineMetadata`, and takes the CURRENT metadata
 * (today's rendered cloud-init and key; undefined here) only when it is created or rebuilt. See
 * docs/runbooks/deploy.md.
 */
export function keptLaunchMetadata(
  previous: PreviousDeployment,
  intent: PipelineIntent,
  color: Color,
): LaunchMetadata | undefined {
  if (!previous.deployed || rebuildPending(previous, intent, color)) return undefined;
  const kept = previous.engineMetadata?.[color];
  if (kept) return kept;
  throw new Error(
    `yquant:rebuild.${color}: the last deployment recorded no engineMetadata.${color}, so the launch ` +
      `metadata of yq-${color} cannot be kept and a changed user data would replace it. This stack was ` +
      `deployed by a program older than the blue-green pipeline; see docs/runbooks/deploy.md, "Adopting".`,
  );
}

/** The launch metadata an engine instance is given: the kept one, or `current`. */
export function engineLaunchMetadata(
  previous: PreviousDeployment,
  intent: PipelineIntent,
  color: Color,
  current: LaunchMetadata,
): LaunchMetadata {
  return keptLaunchMetadata(previous, intent, color) ?? current;
}
