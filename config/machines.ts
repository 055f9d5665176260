/**
 * What each VM is: the shapes this project accepts (with their sizes, for the cost model), the
 * engines' OCPUs and memory within their shape's ranges, and the pinned images.
 */
import { LayoutSizing } from "../cost/usage";
import { ConfigError, RawConfig, checkPattern, quoteList, readInteger, readString } from "./read";

/** Fixed shapes the gate may use, with their size (for the cost model). */
export const FIXED_SHAPES: Readonly<Record<string, { readonly ocpus: number; readonly memoryGbs: number }>> =
  {
    "VM.Standard.E2.1.Micro": { ocpus: 1, memoryGbs: 1 },
    "VM.Standard.E2.1": { ocpus: 1, memoryGbs: 8 },
    "VM.Standard.E2.2": { ocpus: 2, memoryGbs: 16 },
    "VM.Standard.E2.4": { ocpus: 4, memoryGbs: 32 },
    "VM.Standard.E2.8": { ocpus: 8, memoryGbs: 64 },
  };

export interface FlexShapeLimits {
  readonly ocpus: readonly [number, number];
  readonly memoryGbs: readonly [number, number];
  readonly memoryPerOcpu: readonly [number, number];
}

/** Flexible shapes the engines may use, with the ranges this project accepts. */
export const FLEX_SHAPES: Readonly<Record<string, FlexShapeLimits>> = {
  "VM.Standard.A1.Flex": { ocpus: [1, 4], memoryGbs: [1, 24], memoryPerOcpu: [1, 64] },
};

export const IMAGE_PATTERN = /^ocid1\.image\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]+$/;
const IMAGE_RULE = "empty (look up Canonical Ubuntu 24.04) or an image OCID (ocid1.image.…)";

export type ShapeSettings = Omit<LayoutSizing, "bootVolumeSizeGbs" | "natGateway">;

/** The shape `key` names, and its entry in `table`; refused, naming the shapes, when it has none. */
function readShape<T>(
  raw: RawConfig,
  key: "gateShape" | "engineShape",
  table: Readonly<Record<string, T>>,
  what: string,
): [string, T] {
  const shape = readString(raw, key);
  const entry = table[shape];
  if (!entry) {
    throw new ConfigError(key, `${JSON.stringify(shape)} is not ${what}`, quoteList(Object.keys(table)));
  }
  return [shape, entry];
}

export function readShapes(raw: RawConfig): ShapeSettings {
  const [gateShape, gate] = readShape(raw, "gateShape", FIXED_SHAPES, "a known fixed shape");
  const [engineShape, limits] = readShape(raw, "engineShape", FLEX_SHAPES, "a supported engine shape");
  const engineOcpus = readInteger(raw, "engineOcpus", limits.ocpus, ` for ${engineShape}`);
  const memoryRange: [number, number] = [
    Math.max(limits.memoryGbs[0], engineOcpus * limits.memoryPerOcpu[0]),
    Math.min(limits.memoryGbs[1], engineOcpus * limits.memoryPerOcpu[1]),
  ];
  const engineMemoryGbs = readInteger(
    raw,
    "engineMemoryGbs",
    memoryRange,
    ` for ${engineShape} with ${engineOcpus} OCPU${engineOcpus === 1 ? "" : "s"}`,
  );
  return {
    gateShape,
    gateOcpus: gate.ocpus,
    gateMemoryGbs: gate.memoryGbs,
    engineShape,
    engineOcpus,
    engineMemoryGbs,
  };
}

/** The two image keys: empty (look the image up) or an image OCID. */
export function readImages(raw: RawConfig): { gateImageId: string; engineImageId: string } {
  const gateImageId = readString(raw, "gateImageId", IMAGE_RULE);
  const engineImageId = readString(raw, "engineImageId", IMAGE_RULE);
  if (gateImageId !== "") checkPattern("gateImageId", gateImageId, IMAGE_PATTERN, IMAGE_RULE);
  if (engineImageId !== "") checkPattern("engineImageId", engineImageId, IMAGE_PATTERN, IMAGE_RULE);
  return { gateImageId, engineImageId };
}
