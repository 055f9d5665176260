/**
 * Day-2 rules for changes that would take more than one node down at once, checked against what the
 * last deployment recorded (stack outputs `placement` and `engineSizing`, read back through the self
 * StackReference, bluegreen/history.ts). Pure, so the messages are tested exactly.
 *
 * - Placement: `natGateway` and `availabilityDomainIndex` are fixed at creation. Changing
 *   `natGateway` replaces the engine subnet create-before-delete with the same CIDR and DNS label,
 *   which OCI refuses while the old one exists, and then both engines; changing the AD replaces all
 *   three VMs. Both are refused up front, before anything is created (docs/runbooks/day2.md).
 * - Engine sizing (shape, OCPUs, memory): an in-place update that reboots the VM. It goes to an
 *   engine only while that engine is the standby both before and after the update; the active one
 *   keeps its recorded sizing until a switch has made it the standby, and the next `pulumi up`
 *   resizes it. So a resize never reboots both engines, or the live one, in one update.
 */
import { COLORS, Color } from "../cloud-init/layout";

/** Output names this module reads back (written by index.ts). */
export const PLACEMENT_OUTPUTS = { placement: "placement", engineSizing: "engineSizing" } as const;

export interface Placement {
  readonly natGateway: boolean;
  readonly availabilityDomainIndex: number;
}

export interface EngineSizing {
  readonly shape: string;
  readonly ocpus: number;
  readonly memoryGbs: number;
}

const isSizing = (v: unknown): v is EngineSizing => {
  const s = v as Record<string, unknown> | null;
  return (
    !!s &&
    typeof s === "object" &&
    typeof s["shape"] === "string" &&
    typeof s["ocpus"] === "number" &&
    typeof s["memoryGbs"] === "number"
  );
};

/** The recorded placement, or undefined (new stack, or one deployed before it was recorded). */
export function placementFromOutput(value: unknown): Placement | undefined {
  const p = value as Record<string, unknown> | null;
  if (!p || typeof p !== "object") return undefined;
  if (typeof p["natGateway"] !== "boolean" || typeof p["availabilityDomainIndex"] !== "number")
    return undefined;
  return { natGateway: p["natGateway"], availabilityDomainIndex: p["availabilityDomainIndex"] };
}

/** The recorded sizing per engine, or undefined. */
export function sizingFromOutput(value: unknown): Readonly<Record<Color, EngineSizing>> | undefined {
  const s = value as Record<string, unknown> | null;
  if (!s || typeof s !== "object" || !COLORS.every((c) => isSizing(s[c]))) return undefined;
  return { blue: s["blue"] as EngineSizing, green: s["green"] as EngineSizing };
}

/** Every refusal of a placement change, in a fixed order. */
export function placementRefusals(recorded: Placement | undefined, wanted: Placement): string[] {
  if (!recorded) return [];
  const out: string[] = [];
  if (recorded.natGateway !== wanted.natGateway) {
    out.push(
      `yquant:natGateway: refusing to change it from ${recorded.natGateway} to ${wanted.natGateway}. ` +
        "The engine subnet's prohibitPublicIpOnVnic/prohibitInternetIngress are fixed at creation, so the " +
        "subnet would be replaced create-before-delete with the same CIDR and DNS label (OCI refuses both " +
        "while the old subnet exists), and both engines with it in one update. Nothing was changed. " +
        'It is a planned full outage: see docs/runbooks/day2.md, "Network placement".',
    );
  }
  if (recorded.availabilityDomainIndex !== wanted.availabilityDomainIndex) {
    out.push(
      `yquant:availabilityDomainIndex: refusing to change it from ${recorded.availabilityDomainIndex} to ` +
        `${wanted.availabilityDomainIndex}. The availability domain is fixed at creation: the gate, blue and ` +
        "green would all be replaced in one update (a full outage, new boot volumes). Nothing was changed. " +
        'See docs/runbooks/day2.md, "Network placement".',
    );
  }
  return out;
}

const sameSizing = (a: EngineSizing, b: EngineSizing): boolean =>
  a.shape === b.shape && a.ocpus === b.ocpus && a.memoryGbs === b.memoryGbs;

export const describeSizing = (s: EngineSizing): string => `${s.shape} ${s.ocpus} OCPU / ${s.memoryGbs} GB`;

/**
 * The sizing `color`'s instance gets in this update: the wanted one when nothing is recorded, when it
 * already has it, or when `color` is the standby before (`liveBefore`) and after (`activeAfter`) this
 * update; otherwise its recorded sizing (it waits until it is the standby).
 */
export function engineSizingFor(
  recorded: Readonly<Record<Color, EngineSizing>> | undefined,
  wanted: EngineSizing,
  liveBefore: Color | undefined,
  activeAfter: Color,
  color: Color,
): EngineSizing {
  const before = recorded?.[color];
  if (!before || sameSizing(before, wanted)) return wanted;
  return liveBefore !== color && activeAfter !== color ? wanted : before;
}

/** The operator's note when an engine keeps its old sizing in this update (or undefined). */
export function pendingResizeNote(
  recorded: Readonly<Record<Color, EngineSizing>> | undefined,
  wanted: EngineSizing,
  liveBefore: Color | undefined,
  activeAfter: Color,
  color: Color,
): string | undefined {
  const given = engineSizingFor(recorded, wanted, liveBefore, activeAfter, color);
  if (sameSizing(given, wanted)) return undefined;
  return (
    `engine sizing: yq-${color} keeps ${describeSizing(given)} in this update because it is (or becomes) ` +
    `the active color; ${describeSizing(wanted)} reaches it once it is the standby: npm run bg -- switch, ` +
    "then pulumi up again (a resize reboots the VM, so it never hits the live engine or both at once)."
  );
}
