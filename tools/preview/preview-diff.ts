/**
 * What `pulumi up` would do to each resource, from mock recordings of the program
 * (tools/preview/mock-program.ts), modelled on the engine and the providers:
 *
 * - `ignoreChanges` puts the OLD value of each ignored path into the new inputs, also when the
 *   resource is replaced: such paths are reported as `kept`, never as changes;
 * - a changed path replaces when it is in the resource's `replaceOnChanges` (the SDKs' own included,
 *   e.g. @pulumi/command's `triggers[*]`) or when the provider forces a new resource for it
 *   (tools/preview/provider-rules.ts, from forcenew.json; of an Instance's `metadata` only
 *   `user_data` and `ssh_authorized_keys`); a path the table does not list is assumed to replace;
 * - `deleteBeforeReplace` is reported; a create-before-delete replacement that asks for a value the
 *   old resource still holds (a subnet's CIDR or DNS label in the same VCN, a pinned private IP in
 *   the same subnet) is a collision: OCI refuses it;
 * - an in-place update the provider documents as a reboot is listed in `reboots`;
 * - planChange() marks the ID and computed outputs of every created or replaced resource unknown and
 *   runs the program again, until nothing more changes, so every dependent is diffed again, through
 *   invokes too (an invoke with an unknown input has an unknown result).
 * Values are never printed, only property paths, so secrets stay out of the report.
 */
import { ProgramRecording, RecordedResource, UNKNOWN, recordProgram } from "./mock-program";
import { classifyPath, pathSegments, rebootEffect, updateCaveat } from "./provider-rules";

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
  /** Paths the program changed that ignoreChanges keeps at their old value (also on replacement). */
  readonly kept: readonly string[];
  /** Changed paths whose new value is only known after apply (an output of a replaced resource). */
  readonly unknown: readonly string[];
  /** In-place updates that reboot the VM (provider facts). */
  readonly reboots: readonly string[];
  /** Other side effects of in-place updates, as the provider facts state them (paths). */
  readonly caveats: readonly string[];
  /** Create-before-delete requests for a value the old resource still holds. */
  readonly collisions: readonly string[];
  /** Changed paths the provider facts do not list (assumed to replace). */
  readonly unlisted: readonly string[];
}

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

/** True when `changed` is at or below `pattern` (`*` matches any one segment; pattern "*" matches all). */
export function pathMatches(pattern: string, changed: string): boolean {
  if (pattern === "*") return true;
  const p = pathSegments(pattern);
  const c = pathSegments(changed);
  if (p[p.length - 1] === "*" && p.length - 1 <= c.length) p.pop();
  if (p.length > c.length) return c.every((s, i) => p[i] === "*" || p[i] === s);
  return p.every((s, i) => s === "*" || s === c[i]);
}

function get(value: unknown, path: string): unknown {
  let node = value;
  for (const s of pathSegments(path)) node = isObject(node) ? node[s] : undefined;
  return node;
}

/** The engine's ignoreChanges: the old value at each path goes into the new inputs (absent stays absent). */
export function applyIgnoreChanges(
  oldInputs: Record<string, unknown>,
  newInputs: Record<string, unknown>,
  ignore: readonly string[],
): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(newInputs)) as Record<string, unknown>;
  for (const path of ignore) {
    const segs = pathSegments(path);
    const last = segs.pop() as string;
    let node: unknown = copy;
    for (const s of segs) {
      if (!isObject(node)) break;
      node[s] ??= {};
      node = node[s];
    }
    if (!isObject(node)) continue;
    const old = get(oldInputs, path);
    if (old === undefined) Reflect.deleteProperty(node, last);
    else node[last] = JSON.parse(JSON.stringify(old)) as unknown;
  }
  return copy;
}

/** Values that are unique within a scope: a create-before-delete replacement cannot reuse them. */
const UNIQUE_VALUES: readonly { type: string; scope: string; fields: readonly string[]; what: string }[] = [
  { type: "oci:Core/subnet:Subnet", scope: "vcnId", fields: ["cidrBlock", "dnsLabel"], what: "VCN" },
  {
    type: "oci:Core/instance:Instance",
    scope: "createVnicDetails.subnetId",
    fields: ["createVnicDetails.privateIp"],
    what: "subnet",
  },
];

function cidrRange(cidr: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const ip = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(m[5]));
  const start = Math.floor(ip / size) * size;
  return [start, start + size - 1];
}

function sameOrOverlapping(a: unknown, b: unknown): boolean {
  if (a === UNKNOWN || b === UNKNOWN || a === undefined || b === undefined) return false;
  const ra = typeof a === "string" ? cidrRange(a) : undefined;
  const rb = typeof b === "string" ? cidrRange(b) : undefined;
  if (ra && rb) return ra[0] <= rb[1] && rb[0] <= ra[1];
  return JSON.stringify(a) === JSON.stringify(b);
}

function collisions(r: RecordedResource, old: RecordedResource, inputs: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const rule of UNIQUE_VALUES.filter((u) => u.type === r.type)) {
    const scope = get(inputs, rule.scope);
    if (scope === UNKNOWN || JSON.stringify(scope) !== JSON.stringify(get(old.inputs, rule.scope))) continue;
    for (const field of rule.fields) {
      if (sameOrOverlapping(get(inputs, field), get(old.inputs, field))) {
        out.push(
          `${field} ${String(get(inputs, field))} is still held by the old resource in the same ${rule.what}`,
        );
      }
    }
  }
  return out;
}

const id = (r: { type: string; name: string }): string => `${r.type}::${r.name}`;

const hasUnknown = (v: unknown): boolean =>
  v === UNKNOWN || (Array.isArray(v) ? v.some(hasUnknown) : isObject(v) && Object.values(v).some(hasUnknown));

const EMPTY = {
  changed: [],
  replaceBecause: [],
  kept: [],
  unknown: [],
  reboots: [],
  caveats: [],
  collisions: [],
  unlisted: [],
};

function diffOne(o: RecordedResource, r: RecordedResource): ResourceDiff {
  const inputs = applyIgnoreChanges(o.inputs, r.inputs, r.ignoreChanges);
  const kept = changedPaths(r.inputs, inputs).sort();
  const changed = changedPaths(o.inputs, inputs).sort();
  const unlisted = changed.filter((c) => classifyPath(r.type, c) === "unlisted");
  const replaceBecause = changed.filter(
    (c) => r.replaceOnChanges.some((p) => pathMatches(p, c)) || classifyPath(r.type, c) !== "update",
  );
  const op: Operation = changed.length === 0 ? "same" : replaceBecause.length > 0 ? "replace" : "update";
  return {
    type: r.type,
    name: r.name,
    op,
    changed,
    replaceBecause,
    deleteBeforeReplace: r.deleteBeforeReplace,
    kept,
    unknown: changed.filter((c) => hasUnknown(get(inputs, c))),
    reboots: op === "update" ? changed.filter((c) => rebootEffect(r.type, c) !== undefined) : [],
    caveats: op === "update" ? changed.filter((c) => updateCaveat(r.type, c) !== undefined) : [],
    collisions: op === "replace" && !r.deleteBeforeReplace ? collisions(r, o, inputs) : [],
    unlisted,
  };
}

/** Classifies every resource of `after` (and those only in `before`, as deletes). */
export function previewDiff(before: ProgramRecording, after: ProgramRecording): ResourceDiff[] {
  const old = new Map(before.resources.map((r) => [id(r), r]));
  const seen = new Set<string>();
  const diffs: ResourceDiff[] = [];
  for (const r of after.resources) {
    seen.add(id(r));
    const o = old.get(id(r));
    diffs.push(
      o ? diffOne(o, r) : { ...EMPTY, type: r.type, name: r.name, op: "create", deleteBeforeReplace: false },
    );
  }
  for (const o of before.resources) {
    if (!seen.has(id(o))) {
      diffs.push({ ...EMPTY, type: o.type, name: o.name, op: "delete", deleteBeforeReplace: false });
    }
  }
  return diffs;
}

export interface PlanArgs {
  /** Config of the deployed stack and of the change (as recordProgram takes it). */
  readonly before: Record<string, string>;
  readonly after: Record<string, string>;
  /** The deployed stack's outputs (the self StackReference). */
  readonly previous?: Record<string, unknown>;
  readonly load: () => Promise<unknown>;
  /** Loads the deployed version of the program, when it differs (a renderer change). Default `load`. */
  readonly loadBefore?: () => Promise<unknown>;
  /** The preview recording of `before` when the caller has it already (it is then not run again). */
  readonly old?: ProgramRecording;
  /** Image lookup revisions before and after (a newer image). Default 0 and 0. */
  readonly imageRevision?: { readonly before?: number; readonly after?: number };
}

export interface Plan {
  readonly diffs: ResourceDiff[];
  /** The program's refusal of the change, if any (then nothing would change). */
  readonly error?: Error;
  /** Program runs until the unknowns settled. */
  readonly rounds: number;
}

/** The fixed point: rerun with every created or replaced resource's outputs unknown until stable. */
export async function planChange(args: PlanArgs): Promise<Plan> {
  const base = { load: args.load, previous: args.previous, preview: true };
  const old =
    args.old ??
    (await recordProgram({
      ...base,
      load: args.loadBefore ?? args.load,
      config: args.before,
      imageRevision: args.imageRevision?.before,
    }));
  if (old.error) throw old.error;
  let unknown = new Set<string>();
  for (let round = 1; round <= 10; round++) {
    const now = await recordProgram({
      ...base,
      config: args.after,
      unknown,
      imageRevision: args.imageRevision?.after,
    });
    if (now.error) return { diffs: [], error: now.error, rounds: round };
    const diffs = previewDiff(old, now);
    const next = new Set(diffs.filter((d) => d.op === "create" || d.op === "replace").map(id));
    if ([...next].every((n) => unknown.has(n))) return { diffs, rounds: round };
    unknown = new Set([...unknown, ...next]);
  }
  throw new Error("planChange: the unknowns did not settle within 10 runs");
}

const SYMBOL: Record<Operation, string> = { same: "=", create: "+", update: "~", replace: "+-", delete: "-" };

/** One line per changed resource: what happens, why, and what it disrupts. */
export function describeDiff(d: ResourceDiff): string {
  const parts = [`${SYMBOL[d.op]} ${d.name}`];
  if (d.op === "replace") {
    parts.push(`replace (${d.replaceBecause.join(", ")})${d.deleteBeforeReplace ? " delete-first" : ""}`);
    const also = d.changed.filter((c) => !d.replaceBecause.includes(c));
    if (also.length) parts.push(`new ${also.join(", ")}`);
  } else if (d.op === "update") {
    parts.push(`update (${d.changed.join(", ")})`);
  } else {
    parts.push(d.op);
  }
  if (d.reboots.length) parts.push(`REBOOTS (${d.reboots.join(", ")})`);
  if (d.caveats.length) parts.push(`in place with side effects (${d.caveats.join(", ")})`);
  if (d.kept.length) parts.push(`kept by ignoreChanges (${d.kept.join(", ")})`);
  if (d.collisions.length) parts.push(`COLLISION: ${d.collisions.join("; ")}`);
  if (d.unlisted.length) parts.push(`not in the provider facts (${d.unlisted.join(", ")})`);
  return parts.join("; ");
}

/** A preview-like text: changed resources one per line, then the count of each operation. */
export function formatPreviewDiff(title: string, diffs: readonly ResourceDiff[]): string {
  const lines = [title];
  for (const d of diffs.filter((x) => x.op !== "same" || x.kept.length > 0))
    lines.push(`  ${describeDiff(d)}`);
  const counts = (["same", "create", "update", "replace", "delete"] as Operation[])
    .map((op) => [op, diffs.filter((d) => d.op === op).length] as const)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op}`);
  lines.push(`  resources: ${counts.join(", ")}`);
  return lines.join("\n");
}
