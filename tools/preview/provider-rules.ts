/**
 * What each provider does with a changed input, read from `forcenew.json` (a verbatim copy of the
 * provider facts the team extracted from the OCI provider's Go schema at the version @pulumi/oci
 * bridges, with @pulumi/command's and @pulumi/random's). tests/preview/preview-diff.test.ts fails
 * when an installed provider package's version differs from the one the file was read for: a bump
 * needs a new file, never a guess.
 *
 * A changed input path is classified by the most specific entry of the resource's `forceNew` or
 * `updatableInPlace` list that is at or above it; a path in neither list is `unlisted` (the preview
 * then assumes a replacement and says so). `conditionalForceNew` entries are honoured where the file
 * names the exact keys: of an Instance's `metadata`, only the keys it quotes (`user_data`,
 * `ssh_authorized_keys`) replace; every other key updates in place.
 */
import facts from "./forcenew.json";

export type PathClass = "replace" | "update" | "unlisted";

interface Disruption {
  readonly path: string;
  readonly effect: string;
}
interface ConditionalForceNew {
  readonly path: string;
  readonly when: string;
}
interface ResourceFacts {
  readonly forceNew?: readonly string[];
  readonly updatableInPlace?: readonly string[];
  readonly conditionalForceNew?: readonly ConditionalForceNew[];
  readonly updatableButDisruptive?: readonly Disruption[];
}

const TABLE = facts as unknown as Readonly<Record<string, ResourceFacts>>;

const source = (type: string): string =>
  String((TABLE[type] as { source?: string } | undefined)?.source ?? "");

/** The package versions the facts were read for (from the file's own provenance text). */
export const FACTS_VERSIONS: Readonly<Record<string, string>> = {
  "@pulumi/oci": /@pulumi\/oci (\d+\.\d+\.\d+)/.exec(facts._provenance.pulumiOciSdk)?.[1] ?? "",
  "@pulumi/command": /pulumi-command v(\d+\.\d+\.\d+)/.exec(source("command:remote:Command"))?.[1] ?? "",
  "@pulumi/random":
    /@pulumi\/random (\d+\.\d+\.\d+)/.exec(source("random:index/randomPassword:RandomPassword"))?.[1] ?? "",
};

/** Resource types the file describes. */
export const KNOWN_TYPES: readonly string[] = Object.keys(TABLE).filter((k) => !k.startsWith("_"));

/** `a.b["c-d"][*]` -> ["a", "b", "c-d", "*"]. */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  for (const m of path.matchAll(/([^.[\]"]+)|\["([^"]*)"\]|\[(\*|\d+)\]/g))
    out.push(m[1] ?? m[2] ?? m[3] ?? "");
  return out;
}

/** True when `entry` (table syntax) is at or above `path` (changed-path syntax; indices match `*`). */
function covers(entry: readonly string[], path: readonly string[]): boolean {
  return entry.length <= path.length && entry.every((s, i) => s === "*" || s === path[i]);
}

/** The metadata-like keys a conditionalForceNew entry names, e.g. metadata -> [user_data, ssh_authorized_keys]. */
function conditionalKeys(type: string): ReadonlyMap<string, readonly string[]> {
  const map = new Map<string, string[]>();
  for (const c of TABLE[type]?.conditionalForceNew ?? []) {
    if (!/^[A-Za-z]+$/.test(c.path)) continue; // only single-property entries name their keys
    const keys = [...c.when.matchAll(new RegExp(`${c.path}\\["([A-Za-z0-9_]+)"\\]`, "g"))].map(
      (m) => m[1] as string,
    );
    if (keys.length > 0) map.set(c.path, [...new Set(keys)].sort());
  }
  return map;
}

/** Replace, update in place, or not in the table, for one changed input path of `type`. */
export function classifyPath(type: string, path: string): PathClass {
  const rules = TABLE[type];
  if (!rules) return "unlisted";
  const segs = pathSegments(path);
  const conditional = conditionalKeys(type).get(segs[0] ?? "");
  if (conditional) {
    // A whole-map change (one side missing) counts as a change of its forcing keys.
    if (segs.length === 1 || conditional.includes(segs[1] ?? "")) return "replace";
  }
  let best: { length: number; cls: PathClass } | undefined;
  const consider = (entries: readonly string[] | undefined, cls: PathClass): void => {
    for (const entry of entries ?? []) {
      const e = pathSegments(entry);
      if (covers(e, segs) && (!best || e.length > best.length)) best = { length: e.length, cls };
    }
  };
  consider(rules.forceNew, "replace");
  consider(rules.updatableInPlace, "update");
  // A changed path above a force-new entry (a whole block appeared or vanished) replaces.
  if (!best && (rules.forceNew ?? []).some((e) => covers(segs, pathSegments(e)))) return "replace";
  return best?.cls ?? "unlisted";
}

/** The provider's own words when an in-place update of `path` reboots the VM (or undefined). */
export function rebootEffect(type: string, path: string): string | undefined {
  const segs = pathSegments(path);
  for (const d of TABLE[type]?.updatableButDisruptive ?? []) {
    if (!/reboot/i.test(d.effect)) continue;
    if (d.path.split(" / ").some((p) => covers(pathSegments(p), segs))) return d.effect;
  }
  return undefined;
}

/** Side effects of an in-place update of `path` that are not a reboot (e.g. an online resize). */
export function updateCaveat(type: string, path: string): string | undefined {
  const segs = pathSegments(path);
  for (const d of TABLE[type]?.updatableButDisruptive ?? []) {
    if (/reboot/i.test(d.effect)) continue;
    if (d.path.split(" / ").some((p) => covers(pathSegments(p), segs))) return d.effect;
  }
  return undefined;
}
