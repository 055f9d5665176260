/**
 * The blue-green keys: the active color, the app (repository and build command) and, per color, its
 * release ref and rebuild counter. The rules themselves are rules.ts's, shared with the CLIs.
 */
import {
  Color,
  DEFAULT_RELEASE,
  RELEASE_REF_RULE,
  REBUILD_RULE,
  isColor,
  isRebuildCounter,
  isReleaseRef,
} from "../rules";
import { ConfigError, RawConfig, checkPattern, present, quoteList, readString } from "./read";

export function readActiveColor(raw: RawConfig): Color {
  const color = readString(raw, "activeColor");
  if (!isColor(color)) {
    throw new ConfigError(
      "activeColor",
      `${JSON.stringify(color)} is not a color`,
      quoteList(["blue", "green"]),
    );
  }
  return color;
}

export function readApp(raw: RawConfig): { appRepository: string; appBuildCommand: string } {
  const appRepository = readString(raw, "appRepository");
  if (appRepository !== "") {
    checkPattern(
      "appRepository",
      appRepository,
      /^(https:\/\/|ssh:\/\/|git@)[^\s'"`$\\]+$/,
      "empty (the placeholder app) or a git URL (https://, ssh:// or git@)",
    );
  }
  const appBuildCommand = readString(raw, "appBuildCommand", "one line of shell, or empty");
  if (/[\r\n]/.test(appBuildCommand)) {
    throw new ConfigError("appBuildCommand", "the value has a line break", "one line of shell, or empty");
  }
  return { appRepository, appBuildCommand };
}

function readColorMap<T>(
  raw: RawConfig,
  key: "releases" | "rebuild",
  fallback: T,
  check: (value: unknown, field: string) => T,
  others: readonly string[] = [],
): Record<Color, T> {
  const value = present(raw, key);
  const result: Record<Color, T> = { blue: fallback, green: fallback };
  if (value === undefined) return result;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(
      key,
      `${JSON.stringify(value)} is not an object`,
      "an object with the keys blue and green",
    );
  }
  for (const [color, item] of Object.entries(value as Record<string, unknown>)) {
    if (others.includes(color)) continue;
    if (!isColor(color)) {
      const allowed = ["blue", "green", ...others];
      throw new ConfigError(
        `${key}.${color}`,
        others.length > 0 ? "is not a color nor the gate" : "is not a color",
        `the keys ${allowed.slice(0, -1).join(", ")} and ${allowed[allowed.length - 1] ?? ""}`,
      );
    }
    result[color] = check(item, `${key}.${color}`);
  }
  return result;
}

function checkRelease(value: unknown, field: string): string {
  if (!isReleaseRef(value)) {
    throw new ConfigError(
      field,
      `${JSON.stringify(value)} is not a release ref`,
      `a git ref of ${RELEASE_REF_RULE}`,
    );
  }
  return value;
}

function checkRebuild(value: unknown, field: string): number {
  const number = typeof value === "string" && /^(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : value;
  if (!isRebuildCounter(number)) {
    throw new ConfigError(field, `${JSON.stringify(value)} is not a rebuild counter`, REBUILD_RULE);
  }
  return number;
}

/** `releases`: a release ref per color, the default release for a color left out. */
export function readReleases(raw: RawConfig): Record<Color, string> {
  return readColorMap(raw, "releases", DEFAULT_RELEASE, checkRelease);
}

/** `rebuild`: a rebuild counter per color, 0 for a color left out (`rebuild.gate`: readGateRebuild). */
export function readRebuild(raw: RawConfig): Record<Color, number> {
  return readColorMap(raw, "rebuild", 0, checkRebuild, ["gate"]);
}

/** `rebuild.gate`: the gate's rebuild counter, 0 when left out (bluegreen/gate-rebuild.ts). */
export function readGateRebuild(raw: RawConfig): number {
  const value = present(raw, "rebuild");
  const gate =
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)["gate"]
      : undefined;
  return gate === undefined ? 0 : checkRebuild(gate, "rebuild.gate");
}
