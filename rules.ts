/**
 * The rules that cross layers, defined once: config, the components, the CLIs and the lab import
 * them, and tests/rules/rules.test.ts checks that the operations scripts' own regexes (deploy.sh's
 * release check, switch-active.sh's drain check) accept and refuse exactly what these do. Pure: it
 * imports nothing.
 */

/** The config namespace of every stack key (`yquant:<key>`). */
export const NAMESPACE = "yquant";

export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];

export function isColor(value: unknown): value is Color {
  return typeof value === "string" && (COLORS as readonly string[]).includes(value);
}

/** The color that is not `color`. */
export function otherColor(color: Color): Color {
  return color === "blue" ? "green" : "blue";
}

/** The release an engine runs until one is configured: the built-in placeholder app. */
export const DEFAULT_RELEASE = "placeholder";

/**
 * A release ref: 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit
 * (no shell metacharacters), and without ".." (no path out of the releases directory, no git range).
 */
export const RELEASE_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
export const RELEASE_REF_RULE =
  "1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without \"..\"";

export function isReleaseRef(value: unknown): value is string {
  return typeof value === "string" && RELEASE_REF_PATTERN.test(value) && !value.includes("..");
}

/** Why `ref` is not a release ref, or undefined when it is one. */
export function releaseRefProblem(ref: string): string | undefined {
  return isReleaseRef(ref) ? undefined : `"${ref}" is not a release ref: use ${RELEASE_REF_RULE}`;
}

/** The drain window of a switch, in whole seconds. */
export const DRAIN_SECONDS: readonly [number, number] = [0, 3600];
export const DRAIN_RULE = `a whole number of seconds from ${DRAIN_SECONDS[0]} to ${DRAIN_SECONDS[1]}`;

/** A drain window: an integer in DRAIN_SECONDS; from text, 1 to 4 digits (leading zeros allowed, as the scripts take them). */
export function isDrainSeconds(value: unknown): value is number {
  return (
    typeof value === "number" &&
    Number.isInteger(value) &&
    value >= DRAIN_SECONDS[0] &&
    value <= DRAIN_SECONDS[1]
  );
}

/** Parses a drain window given as text (`--drain 30`); undefined when it is not one. */
export function parseDrainSeconds(text: string): number | undefined {
  if (!/^[0-9]{1,4}$/.test(text)) return undefined;
  const value = Number(text);
  return isDrainSeconds(value) ? value : undefined;
}

/** A rebuild counter: a non-negative safe integer (it only ever goes up). */
export const REBUILD_RULE = "a non-negative integer";

export function isRebuildCounter(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
