/**
 * Runs the Pulumi program (index.ts) against mocks that record every resource and invoke, and fail
 * on any invoke they do not know. Config is set before the program is imported, and the module
 * registry is reset so the program can run more than once in one test file.
 */
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
}

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
}

export interface RecordedOptions {
  readonly type: string;
  readonly name: string;
  readonly ignoreChanges: readonly string[] | undefined;
  readonly deleteBeforeReplace: boolean | undefined;
  readonly hasParent: boolean;
}

export interface ProgramRun {
  readonly resources: RecordedResource[];
  readonly invokes: RecordedInvoke[];
  readonly options: RecordedOptions[];
  /** The stack outputs, resolved (secret values are unwrapped by the runtime). */
  readonly outputs: Record<string, unknown>;
  /** The exported values as the module holds them (Outputs intact), for isSecret checks. */
  readonly exports: Record<string, unknown>;
  /** What the program threw while it was imported, if anything. */
  readonly error: unknown;
}

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
  if (isSecretMarker(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

export const AVAILABILITY_DOMAINS = [
  "Uocm:EU-FRANKFURT-1-AD-1",
  "Uocm:EU-FRANKFURT-1-AD-2",
  "Uocm:EU-FRANKFURT-1-AD-3",
];
export const imageIdFor = (shape: string): string =>
  `ocid1.image.oc1..${shape.replace(/[^A-Za-z0-9]/g, "").toLowerCase()}`;
export const GATE_PUBLIC_IP = "203.0.113.10";
export const GATE_PRIMARY_PRIVATE_IP_ID = "ocid1.privateip.oc1..gateprimary";

function extraState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "oci:Core/instance:Instance": {
      const vnic = (inputs["createVnicDetails"] ?? {}) as Record<string, unknown>;
      return {
        privateIp: vnic["privateIp"],
        publicIp: vnic["assignPublicIp"] === "true" ? "198.51.100.20" : "",
      };
    }
    case "pulumi:pulumi:StackReference":
      // A stack that has never been deployed: no outputs recorded yet.
      return { outputs: {}, secretOutputNames: [] };
    case "oci:Core/publicIp:PublicIp":
      return { ipAddress: GATE_PUBLIC_IP };
    case "random:index/randomPassword:RandomPassword":
      return { result: `Gen${name.replace(/[^A-Za-z0-9]/g, "")}0123456789abcdefghij`.slice(0, 32) };
    default:
      return {};
  }
}

function invokeResult(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "oci:Identity/getAvailabilityDomains:getAvailabilityDomains":
      return {
        compartmentId: inputs["compartmentId"],
        id: "ads",
        availabilityDomains: AVAILABILITY_DOMAINS.map((name, i) => ({
          id: `ad-${i}`,
          name,
          compartmentId: "c",
        })),
      };
    case "oci:Core/getImages:getImages":
      return {
        ...inputs,
        id: "images",
        images: [
          { id: imageIdFor(String(inputs["shape"])), displayName: "newest" },
          { id: "ocid1.image.oc1..older", displayName: "older" },
        ],
      };
    case "oci:Core/getVnicAttachments:getVnicAttachments":
      return {
        ...inputs,
        id: "attachments",
        vnicAttachments: [
          { id: "att-1", vnicId: "ocid1.vnic.oc1..secondary", nicIndex: 1, instanceId: inputs["instanceId"] },
          {
            id: "att-0",
            vnicId: "ocid1.vnic.oc1..gateprimary",
            nicIndex: 0,
            instanceId: inputs["instanceId"],
          },
        ],
      };
    case "oci:Core/getPrivateIps:getPrivateIps":
      if (inputs["vnicId"] !== "ocid1.vnic.oc1..gateprimary") {
        throw new Error(`getPrivateIps for an unexpected VNIC ${String(inputs["vnicId"])}`);
      }
      return {
        ...inputs,
        id: "private-ips",
        privateIps: [
          { id: "ocid1.privateip.oc1..secondary", isPrimary: false, ipAddress: "10.0.1.99" },
          { id: GATE_PRIMARY_PRIVATE_IP_ID, isPrimary: true, ipAddress: "10.0.1.10" },
        ],
      };
    default:
      throw new Error(`un-mocked invoke ${token}`);
  }
}

async function settle(count: () => number): Promise<void> {
  let last = -1;
  let stable = 0;
  while (stable < 20) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const now = count();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

/** Config keys without the namespace; values as Pulumi passes them (strings, JSON for lists/objects). */
export async function runProgram(config: Record<string, string>): Promise<ProgramRun> {
  vi.resetModules();
  const resources: RecordedResource[] = [];
  const invokes: RecordedInvoke[] = [];
  const options: RecordedOptions[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Record<string, unknown>;
        resources.push({ type: args.type, name: args.name, custom: args.custom ?? false, inputs });
        return { id: `${args.name}-id`, state: { ...inputs, ...extraState(args.type, args.name, inputs) } };
      },
      call(args) {
        const inputs = args.inputs as Record<string, unknown>;
        invokes.push({ token: args.token, inputs });
        return invokeResult(args.token, inputs);
      },
    },
    "yquant",
    "prod",
    false,
    "organization",
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([key, value]) => [`yquant:${key}`, value])),
    ["sshPrivateKey", "valkeyPassword", "sentinelPassword", "tlsPem"].map((key) => `yquant:${key}`),
  );
  let exported: Record<string, unknown> = {};
  let error: unknown = undefined;
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      options.push({
        type: args.type,
        name: args.name,
        ignoreChanges: args.opts.ignoreChanges,
        deleteBeforeReplace: (args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
        hasParent: args.opts.parent !== undefined,
      });
      return undefined;
    });
    try {
      const program = (await import("../../index")) as Record<string, unknown>;
      exported = { ...program };
    } catch (thrown) {
      error = thrown;
    }
    return exported;
  });
  await settle(() => resources.length + invokes.length);
  return {
    resources,
    invokes,
    options,
    outputs: (outputs ?? {}) as Record<string, unknown>,
    exports: exported,
    error,
  };
}

/** The outputs stack core exports (the pipeline adds its own). */
export const CORE_OUTPUTS = [
  "activeColor",
  "standbyColor",
  "gatePublicIp",
  "liveUrl",
  "stagingUrl",
  "privateIps",
  "instanceIds",
  "sentinels",
  "costEstimate",
];

/** Resources of one type, custom only. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.custom && r.type === type);
}

/** `{ type: count }` over custom resources. */
export function countByType(run: ProgramRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
