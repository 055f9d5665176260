/**
 * Reads and edits the pipeline's keys in a stack file (Pulumi.prod.yaml) with the `yaml` package's
 * Document API: an edit changes only the value it sets, and keeps every comment, the key order and
 * the quoting of everything else (no line folding). Pure: text in, text out.
 */
import { Document, isMap, parseDocument } from "yaml";
import {
  Color,
  DEFAULT_RELEASE,
  NAMESPACE,
  isColor,
  isRebuildCounter,
  otherColor,
  releaseRefProblem,
} from "../rules";

export { DEFAULT_RELEASE, NAMESPACE } from "../rules";

/** The pipeline's view of a stack file (defaults as config.ts applies them). */
export interface PipelineSettings {
  readonly activeColor: Color;
  readonly standbyColor: Color;
  readonly releases: Readonly<Record<Color, string>>;
  readonly rebuild: Readonly<Record<Color, number>>;
  readonly messageMasterFollowsActive: boolean;
}

/** A stack file the pipeline cannot read: names the key, like config.ts's errors. */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

export type ConfigPath = readonly [string, ...string[]];

function parse(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new StackFileError(`the stack file is not valid YAML: ${doc.errors[0]?.message}`);
  if (!isMap(doc.contents)) throw new StackFileError("the stack file is not a YAML mapping");
  return doc;
}

function key(name: string): string {
  return `${NAMESPACE}:${name}`;
}

export function readSettings(text: string): PipelineSettings {
  const doc = parse(text);
  const get = (path: ConfigPath): unknown => doc.getIn(["config", key(path[0]), ...path.slice(1)]);
  const active = get(["activeColor"]) ?? "blue";
  if (!isColor(active)) {
    throw new StackFileError(
      `${key("activeColor")}: ${JSON.stringify(active)} is not a color (blue or green)`,
    );
  }
  const release = (color: Color): string => {
    const value = get(["releases", color]) ?? DEFAULT_RELEASE;
    if (typeof value !== "string" || releaseRefProblem(value)) {
      throw new StackFileError(`${key("releases")}.${color}: ${JSON.stringify(value)} is not a release ref`);
    }
    return value;
  };
  const counter = (color: Color): number => {
    const value = get(["rebuild", color]) ?? 0;
    if (!isRebuildCounter(value)) {
      throw new StackFileError(
        `${key("rebuild")}.${color}: ${JSON.stringify(value)} is not a rebuild counter`,
      );
    }
    return value;
  };
  const follows = get(["messageMasterFollowsActive"]) ?? true;
  if (typeof follows !== "boolean") {
    throw new StackFileError(
      `${key("messageMasterFollowsActive")}: ${JSON.stringify(follows)} is not a boolean`,
    );
  }
  return {
    activeColor: active,
    standbyColor: otherColor(active),
    releases: { blue: release("blue"), green: release("green") },
    rebuild: { blue: counter("blue"), green: counter("green") },
    messageMasterFollowsActive: follows,
  };
}

export interface ConfigEdit {
  /** Key path below the namespace, e.g. ["releases", "green"]. */
  readonly path: ConfigPath;
  readonly value: string | number | boolean;
}

/** Applies the edits; everything else in the text stays byte for byte. */
export function applyEdits(text: string, edits: readonly ConfigEdit[]): string {
  const doc = parse(text);
  for (const edit of edits) doc.setIn(["config", key(edit.path[0]), ...edit.path.slice(1)], edit.value);
  return doc.toString({ lineWidth: 0 });
}

/** `yquant:releases.green` for ["releases", "green"]. */
export function formatPath(path: ConfigPath): string {
  return [key(path[0]), ...path.slice(1)].join(".");
}
