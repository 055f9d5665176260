/**
 * Runs the Pulumi program (index.ts) under mocks and records every resource with its inputs and
 * options, so two runs with different config can be diffed (pipeline/preview-diff.ts). Shared by the
 * tests (tests/pipeline) and `npx tsx pipeline/preview-report.ts`. Unknown invokes throw. The stack's
 * own StackReference (components/history.ts) answers with the `previous` outputs given.
 *
 * Mocked IDs follow the rebuild counter: an instance tagged `yquant-rebuild: N` (N > 0) gets the ID
 * `<name>-id-rN`, as a replaced instance gets a new OCID, so what hangs on the instance ID changes too.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** Inputs as the provider would get them, secrets unwrapped. */
  readonly inputs: Record<string, unknown>;
  /** Top-level inputs that were secret (shown as [secret] by `pulumi preview`). */
  readonly secretInputs: readonly string[];
  readonly parent?: string;
  readonly dependsOn: readonly string[];
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
}

export interface ProgramRecording {
  readonly resources: RecordedResource[];
  readonly invokes: { token: string; inputs: Record<string, unknown> }[];
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
}

export const SECRET_CONFIG_KEYS = ["sshPrivateKey", "valkeyPassword", "sentinelPassword", "tlsPem"];
export const SECRET_OUTPUT_NAMES = ["engineMetadata"];
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const GATE_PUBLIC_IP = "203.0.113.10";

function isSecretMarker(value: unknown): boolean {
  return !!value && typeof value === "object" && SECRET_SIG_KEY in (value as object);
}

/** Removes the runtime's secret markers, recursively. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretMarker(value)) {
    return unwrapSecrets((value as { value: unknown }).value);
  }
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

function mockId(type: string, name: string, inputs: Record<string, unknown>): string {
  const tags = (inputs["freeformTags"] ?? {}) as Record<string, unknown>;
  const generation = Number(tags["yquant-rebuild"] ?? 0);
  return type === "oci:Core/instance:Instance" && generation > 0 ? `${name}-id-r${generation}` : `${name}-id`;
}

function extraState(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "oci:Core/instance:Instance": {
      const vnic = (inputs["createVnicDetails"] ?? {}) as Record<string, unknown>;
      return { privateIp: vnic["privateIp"], publicIp: "" };
    }
    case "oci:Core/publicIp:PublicIp":
      return { ipAddress: GATE_PUBLIC_IP };
    case "random:index/randomPassword:RandomPassword":
      return { result: "GeneratedPassword0123456789abcdef" };
    case "command:remote:Command":
      return { stdout: "ok", stderr: "" };
    default:
      return {};
  }
}

function invokeResult(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "oci:Identity/getAvailabilityDomains:getAvailabilityDomains":
      return {
        id: "ads",
        compartmentId: inputs["compartmentId"],
        availabilityDomains: ["AD-1", "AD-2", "AD-3"].map((n, i) => ({
          id: `ad-${i}`,
          name: `Uocm:EU-FRANKFURT-1-${n}`,
          compartmentId: "c",
        })),
      };
    case "oci:Core/getImages:getImages":
      return {
        ...inputs,
        id: "images",
        images: [
          {
            id: `ocid1.image.oc1..${String(inputs["shape"])
              .replace(/[^A-Za-z0-9]/g, "")
              .toLowerCase()}`,
          },
        ],
      };
    case "oci:Core/getVnicAttachments:getVnicAttachments":
      return {
        ...inputs,
        id: "attachments",
        vnicAttachments: [{ id: "att-0", vnicId: "ocid1.vnic.oc1..gateprimary", nicIndex: 0 }],
      };
    case "oci:Core/getPrivateIps:getPrivateIps":
      return {
        ...inputs,
        id: "private-ips",
        privateIps: [{ id: "ocid1.privateip.oc1..gateprimary", isPrimary: true, ipAddress: "10.0.1.10" }],
      };
    default:
      throw new Error(`un-mocked invoke ${token}`);
  }
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
  const created: {
    type: string;
    name: string;
    custom: boolean;
    inputs: Record<string, unknown>;
    secretInputs: string[];
  }[] = [];
  const invokes: { token: string; inputs: Record<string, unknown> }[] = [];
  const opts = new Map<string, Omit<RecordedResource, "inputs" | "custom" | "secretInputs">>();
  const names = new WeakMap<object, string>();
  const previous = options.previous ?? {};

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
        const secretInputs = Object.entries(args.inputs as Record<string, unknown>)
          .filter(([, v]) => isSecretMarker(v))
          .map(([k]) => k)
          .sort();
        created.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs, secretInputs });
        if (args.type === "pulumi:pulumi:StackReference") {
          return {
            id: String(inputs["name"]),
            state: { name: inputs["name"], outputs: previous, secretOutputNames: SECRET_OUTPUT_NAMES },
          };
        }
        return {
          id: mockId(args.type, args.name, inputs),
          state: { ...inputs, ...extraState(args.type, inputs) },
        };
      },
      call(args) {
        const inputs = args.inputs as Record<string, unknown>;
        invokes.push({ token: args.token, inputs });
        return invokeResult(args.token, inputs);
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
    };
  });
  return { resources, invokes, outputs, error };
}
