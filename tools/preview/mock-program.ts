/**
 * Runs the Pulumi program (program.ts) under mocks and records every resource with its inputs and
 * options, and every invoke, so two runs with different config can be diffed
 * (tools/preview/preview-diff.ts). The one mock runtime of the repository: shared by the tests
 * (through tests/fixtures.ts) and `npx tsx tools/preview/preview-report.ts`. Config is set before
 * `load` imports the program; the providers' answers are in mock-provider.ts (unknown invokes throw,
 * and the known ones check what they are asked where it matters). The stack's own StackReference
 * (bluegreen/history.ts) answers with the `previous` outputs given.
 *
 * Mocked IDs follow the rebuild counter: an instance tagged `yquant-rebuild: N` (N > 0) gets the ID
 * `<name>-id-rN`, as a replaced instance gets a new OCID, so what hangs on the instance ID changes too.
 */
import * as pulumi from "@pulumi/pulumi";
import { extraState, invokeResult, rememberInstance } from "./mock-provider";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** Inputs as the provider would get them, secrets unwrapped. */
  readonly inputs: Record<string, unknown>;
  /** Inputs as the runtime passed them, secret markers in place (a change in secrecy is a change). */
  readonly markedInputs: Record<string, unknown>;
  /** Top-level inputs that were secret (shown as [secret] by `pulumi preview`). */
  readonly secretInputs: readonly string[];
  readonly parent?: string;
  readonly dependsOn: readonly string[];
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  /** `protect`: Pulumi refuses any plan that deletes or replaces the resource. */
  readonly protect: boolean;
  /** `retainOnDelete`: a delete leaves the cloud resource in place. */
  readonly retainOnDelete: boolean;
}

/** A resource's options as the stack transformation saw them (every resource but the stack itself). */
export type RecordedOptions = Omit<RecordedResource, "inputs" | "markedInputs" | "custom" | "secretInputs">;

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
}

export interface ProgramRecording {
  readonly resources: RecordedResource[];
  readonly invokes: RecordedInvoke[];
  /** In registration order. */
  readonly options: RecordedOptions[];
  /** Stack outputs, resolved, secrets unwrapped. */
  readonly outputs: Record<string, unknown>;
  /** The program's failure, if any (a refused config or a refused pipeline step). */
  readonly error?: Error;
}

export interface MockRunOptions {
  /** Config keys without the `yquant:` namespace, values as Pulumi passes them (JSON for objects). */
  readonly config: Record<string, string>;
  /** The outputs of the stack's last deployment, as the self StackReference returns them. */
  readonly previous?: Record<string, unknown>;
  /** Loads (imports) the program afresh. */
  readonly load: () => Promise<unknown>;
  /** Run as a preview (`pulumi preview`). Default false. */
  readonly preview?: boolean;
  /**
   * Resources (`type::name`) whose ID and computed outputs are unknown, as `pulumi preview` sees a
   * resource it is about to create or replace (needs `preview`). Default: none.
   */
  readonly unknown?: ReadonlySet<string>;
  /** The image lookup's newest image is this many releases newer than the default one. Default 0. */
  readonly imageRevision?: number;
}

/** How a recording shows a value that is unknown in the preview (an output of a replaced resource). */
export const UNKNOWN = "<unknown>";
/** The runtime's wire sentinel for an unknown value. */
const UNKNOWN_WIRE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const SECRET_CONFIG_KEYS = ["sshPrivateKey", "valkeyPassword", "sentinelPassword", "tlsPem"];
export const SECRET_OUTPUT_NAMES = ["engineMetadata", "gateMetadata"];
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export function isSecretMarker(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** Removes the runtime's secret markers, recursively. */
export function unwrapSecrets(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (isSecretMarker(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** A recorded value back to the wire: UNKNOWN becomes the runtime's unknown sentinel again. */
function toWire(value: unknown): unknown {
  if (value === UNKNOWN) return UNKNOWN_WIRE;
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

/** The ID the mock gives a resource (what dependents such as a VolumeAttachment's instanceId see). */
export function mockId(type: string, name: string, inputs: Record<string, unknown>): string {
  const tags = (inputs["freeformTags"] ?? {}) as Record<string, unknown>;
  const generation = Number(tags["yquant-rebuild"] ?? 0);
  return type === "oci:Core/instance:Instance" && generation > 0 ? `${name}-id-r${generation}` : `${name}-id`;
}

async function settle(count: () => number): Promise<void> {
  let last = -1;
  let stable = 0;
  while (stable < 20) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const now = count();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

/** Runs the program once under mocks. Never throws for a program failure: see `error`. */
export async function recordProgram(options: MockRunOptions): Promise<ProgramRecording> {
  const created: Pick<
    RecordedResource,
    "type" | "name" | "custom" | "inputs" | "markedInputs" | "secretInputs"
  >[] = [];
  const invokes: RecordedInvoke[] = [];
  const opts = new Map<string, RecordedOptions>();
  const names = new WeakMap<object, string>();
  const previous = options.previous ?? {};
  const unknown = options.unknown ?? new Set<string>();

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const markedInputs = args.inputs as Record<string, unknown>;
        const inputs = unwrapSecrets(markedInputs) as Record<string, unknown>;
        const secretInputs = Object.entries(markedInputs)
          .filter(([, v]) => isSecretMarker(v))
          .map(([k]) => k)
          .sort();
        created.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs,
          markedInputs,
          secretInputs,
        });
        if (args.type === "pulumi:pulumi:StackReference") {
          return {
            id: String(inputs["name"]),
            state: { name: inputs["name"], outputs: previous, secretOutputNames: SECRET_OUTPUT_NAMES },
          };
        }
        const extra = extraState(args.type, args.name, inputs);
        if (unknown.has(`${args.type}::${args.name}`)) {
          // Being created or replaced: the inputs are what the program gave, the rest is computed.
          const computed = Object.fromEntries(Object.keys(extra).map((k) => [k, UNKNOWN_WIRE]));
          return { id: "", state: toWire({ ...inputs, ...computed }) as Record<string, unknown> };
        }
        // An input that is unknown stays unknown in the state (the provider echoes its inputs).
        const id = mockId(args.type, args.name, inputs);
        if (args.type === "oci:Core/instance:Instance" && !(options.preview ?? false)) {
          const source = (inputs["sourceDetails"] ?? {}) as Record<string, unknown>;
          rememberInstance(id, String(source["sourceId"]), inputs["metadata"]);
        }
        return {
          id,
          state: toWire({ ...inputs, ...extra }) as Record<string, unknown>,
        };
      },
      call(args) {
        const inputs = args.inputs as Record<string, unknown>;
        invokes.push({ token: args.token, inputs });
        return invokeResult(args.token, inputs, options.imageRevision ?? 0);
      },
    },
    "yquant",
    "prod",
    options.preview ?? false,
    "organization",
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(options.config).map(([k, v]) => [`yquant:${k}`, v])),
    SECRET_CONFIG_KEYS.map((k) => `yquant:${k}`),
  );

  // A refusal inside an apply fails the registration of the resources that read it; the runtime
  // reports that as an unhandled rejection (the CLI's language host exits with it), and the stack
  // never completes, so the run ends at the first such error.
  let error: Error | undefined;
  let failed: () => void = () => undefined;
  const failure = new Promise<undefined>((resolve) => (failed = () => resolve(undefined)));
  const onRejection = (reason: unknown): void => {
    error ??= reason instanceof Error ? reason : new Error(String(reason));
    failed();
  };
  process.on("unhandledRejection", onRejection);
  let outputs: Record<string, unknown> = {};
  try {
    const run = pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        names.set(args.resource, `${args.type}::${args.name}`);
        const o = args.opts as pulumi.CustomResourceOptions;
        const deps = Array.isArray(o.dependsOn) ? o.dependsOn : o.dependsOn ? [o.dependsOn] : [];
        opts.set(`${args.type}::${args.name}`, {
          type: args.type,
          name: args.name,
          parent: o.parent ? names.get(o.parent) : undefined,
          dependsOn: deps.map((d) => names.get(d as object) ?? "<output>"),
          ignoreChanges: o.ignoreChanges ?? [],
          replaceOnChanges: o.replaceOnChanges ?? [],
          deleteBeforeReplace: o.deleteBeforeReplace ?? false,
          protect: o.protect ?? false,
          retainOnDelete: o.retainOnDelete ?? false,
        });
        return undefined;
      });
      return (await options.load()) as Record<string, unknown>;
    });
    const result = await Promise.race([run, failure]);
    outputs = unwrapSecrets(result ?? {}) as Record<string, unknown>;
  } catch (e) {
    error ??= e instanceof Error ? e : new Error(String(e));
  }
  await settle(() => created.length + invokes.length);
  process.off("unhandledRejection", onRejection);

  const resources = created.map((r) => {
    const o = opts.get(`${r.type}::${r.name}`);
    return {
      ...r,
      parent: o?.parent,
      dependsOn: o?.dependsOn ?? [],
      ignoreChanges: o?.ignoreChanges ?? [],
      replaceOnChanges: o?.replaceOnChanges ?? [],
      deleteBeforeReplace: o?.deleteBeforeReplace ?? false,
      protect: o?.protect ?? false,
      retainOnDelete: o?.retainOnDelete ?? false,
    };
  });
  return { resources, invokes, options: [...opts.values()], outputs, error };
}
