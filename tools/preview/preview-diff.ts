/**
 * previewDiff(before, after): what `pulumi preview` would do to each resource, from two mock
 * recordings of the program (tools/preview/mock-program.ts) with different config. Like the engine, it
 * drops `ignoreChanges` paths before comparing, and it replaces when a changed path is in the
 * resource's `replaceOnChanges` (including the SDK's own, e.g. @pulumi/command's `triggers[*]`) or
 * is a known force-new property of the provider (FORCE_NEW below; conservative where unsure).
 * Values are never printed, only property paths, so secrets stay out of the report.
 */
import type { ProgramRecording, RecordedResource } from "./mock-program";

export type Operation = "same" | "create" | "update" | "replace" | "delete";

export interface ResourceDiff {
  readonly type: string;
  readonly name: string;
  readonly op: Operation;
  /** Changed property paths (after ignoreChanges), sorted. */
  readonly changed: readonly string[];
  /** The changed paths that force the replacement. */
  readonly replaceBecause: readonly string[];
  readonly deleteBeforeReplace: boolean;
}

/**
 * Provider-side force-new inputs (a change replaces even without replaceOnChanges). OCI: user_data
 * and ssh_authorized_keys of `metadata` are launch-only, as are the image, the availability domain
 * and the primary VNIC's subnet/address. @pulumi/command 1.x replaces only on `triggers` (its SDK
 * adds replaceOnChanges ["triggers[*]"]); `connection` is listed here too, conservatively (0.x
 * replaced on it).
 */
export const FORCE_NEW: Readonly<Record<string, readonly string[]>> = {
  "oci:Core/instance:Instance": [
    "metadata",
    "sourceDetails",
    "availabilityDomain",
    "createVnicDetails.subnetId",
    "createVnicDetails.privateIp",
    "createVnicDetails.assignPublicIp",
  ],
  "command:remote:Command": ["triggers", "connection"],
  "oci:Core/vcn:Vcn": ["cidrBlocks", "cidrBlock", "compartmentId"],
  "oci:Core/subnet:Subnet": ["cidrBlock", "vcnId", "prohibitPublicIpOnVnic"],
  "oci:Core/publicIp:PublicIp": ["lifetime"],
  "random:index/randomPassword:RandomPassword": ["length", "special", "upper", "lower", "numeric"],
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function key(segment: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment) ? `.${segment}` : `["${segment}"]`;
}

/** Leaf paths (objects are walked, arrays and scalars are leaves) whose values differ. */
export function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], `${prefix}${key(k)}`));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [prefix.replace(/^\./, "")];
}

/** Normalises `a.b`, `a["b"]` and `a[*]` to segments. */
function segments(path: string): string[] {
  const out: string[] = [];
  const re = /([^.[\]]+)|\["([^"]*)"\]|\[(\*|\d+)\]/g;
  for (const m of path.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? "");
  return out;
}

/** True when `changed` is at or below `pattern` (`*` matches any one segment; pattern "*" matches all). */
export function pathMatches(pattern: string, changed: string): boolean {
  if (pattern === "*") return true;
  const p = segments(pattern);
  const c = segments(changed);
  if (p[p.length - 1] === "*" && p.length - 1 <= c.length) p.pop();
  if (p.length > c.length) return c.every((s, i) => p[i] === "*" || p[i] === s);
  return p.every((s, i) => s === "*" || s === c[i]);
}

function withoutIgnored(inputs: Record<string, unknown>, ignore: readonly string[]): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
  for (const path of ignore) {
    const segs = segments(path);
    let node: unknown = copy;
    for (let i = 0; i < segs.length - 1 && isObject(node); i++) node = node[segs[i] as string];
    if (isObject(node)) Reflect.deleteProperty(node, segs[segs.length - 1] as string);
  }
  return copy;
}

const id = (r: RecordedResource): string => `${r.type}::${r.name}`;

/** Classifies every resource of `after` (and those only in `before`, as deletes). */
export function previewDiff(before: ProgramRecording, after: ProgramRecording): ResourceDiff[] {
  const old = new Map(before.resources.map((r) => [id(r), r]));
  const seen = new Set<string>();
  const diffs: ResourceDiff[] = [];
  for (const r of after.resources) {
    seen.add(id(r));
    const o = old.get(id(r));
    if (!o) {
      diffs.push({
        type: r.type,
        name: r.name,
        op: "create",
        changed: [],
        replaceBecause: [],
        deleteBeforeReplace: false,
      });
      continue;
    }
    const changed = changedPaths(
      withoutIgnored(o.inputs, r.ignoreChanges),
      withoutIgnored(r.inputs, r.ignoreChanges),
    ).sort();
    const replaceOn = [...r.replaceOnChanges, ...(FORCE_NEW[r.type] ?? [])];
    const replaceBecause = changed.filter((c) => replaceOn.some((p) => pathMatches(p, c)));
    const op: Operation = changed.length === 0 ? "same" : replaceBecause.length > 0 ? "replace" : "update";
    diffs.push({
      type: r.type,
      name: r.name,
      op,
      changed,
      replaceBecause,
      deleteBeforeReplace: r.deleteBeforeReplace,
    });
  }
  for (const o of before.resources) {
    if (!seen.has(id(o))) {
      diffs.push({
        type: o.type,
        name: o.name,
        op: "delete",
        changed: [],
        replaceBecause: [],
        deleteBeforeReplace: false,
      });
    }
  }
  return diffs;
}

const SYMBOL: Record<Operation, string> = { same: " ", create: "+", update: "~", replace: "+-", delete: "-" };

/** A preview-like text: changed resources one per line, then the count of each operation. */
export function formatPreviewDiff(title: string, diffs: readonly ResourceDiff[]): string {
  const lines = [title];
  for (const d of diffs.filter((x) => x.op !== "same")) {
    const extra =
      d.op === "replace"
        ? ` (replace because: ${d.replaceBecause.join(", ")}${d.deleteBeforeReplace ? "; delete before replace" : ""})`
        : "";
    const changed = d.changed.length ? ` [diff: ~${d.changed.join(", ~")}]` : "";
    lines.push(`  ${SYMBOL[d.op].padEnd(2)} ${d.op.padEnd(7)} ${d.type}  ${d.name}${changed}${extra}`);
  }
  const counts = (["same", "create", "update", "replace", "delete"] as Operation[])
    .map((op) => [op, diffs.filter((d) => d.op === op).length] as const)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op}`);
  lines.push(`  resources: ${counts.join(", ")}`);
  return lines.join("\n");
}
