/**
 * What the VMs boot with and what the pipeline runs on them, taken from the Pulumi program itself:
 * program.ts runs under the repository's one mock runtime (tools/preview/mock-program.ts), and each
 * instance's `metadata.user_data` is base64-decoded as OCI hands it to cloud-init, then gunzipped as
 * cloud-init itself does first (the program gzips it to fit OCI's metadata limit). The
 * switch and release commands are the `create` scripts of the program's `command:remote:Command`
 * resources, with their connection (user, jump host). There is no second render path here.
 */
import * as zlib from "node:zlib";
import { mockId, recordProgram, type RecordedResource } from "../tools/preview/mock-program";
import {
  COLORS,
  HOSTNAMES,
  NODE_NAMES,
  TOPOLOGY,
  gateNode,
  type Color,
  type NodeName,
} from "../cloud-init/layout";

/** The node that runs HAProxy: the jump host of the engines' commands and SSH sessions. */
export const GATE: NodeName = gateNode(TOPOLOGY);

/** One node as the program creates it. */
export interface ProgramNode {
  readonly name: NodeName;
  readonly hostname: string;
  readonly privateIp: string;
  /** `metadata.user_data`, base64-decoded: the bytes cloud-init gets (gzip), written to the seed as is. */
  readonly userDataBytes: Buffer;
  /** The same, gunzipped as cloud-init does: the `#cloud-config` text (for the harness's own reading). */
  readonly userData: string;
  /** `metadata.ssh_authorized_keys`. */
  readonly sshAuthorizedKeys: string;
  /**
   * The sizes (GB) of the block volumes the program attaches to this instance, in attachment order:
   * the VM gets a blank disk of each size, as OCI attaches a new volume.
   */
  readonly blockVolumeGbs: readonly number[];
}

/** One `command:remote:Command` of the pipeline. */
export interface ProgramCommand {
  readonly name: string;
  readonly create: string;
  readonly user: string;
  /** The connection's host: the gate's (mocked) public address, or an engine's private address. */
  readonly host: string;
  /** The jump host's address when the command goes through the gate. */
  readonly proxyHost?: string;
}

export interface ProgramView {
  readonly nodes: Readonly<Record<NodeName, ProgramNode>>;
  readonly commands: readonly ProgramCommand[];
  readonly outputs: Record<string, unknown>;
}

/** Stack config for the VMs: the caller's keys, one admin address, releases per color. */
export interface VmStackConfig {
  readonly sshPublicKey: string;
  readonly sshPrivateKey: string;
  readonly adminCidr: string;
  readonly activeColor: Color;
  readonly releases: Readonly<Record<Color, string>>;
  readonly valkeyPassword: string;
  readonly sentinelPassword: string;
}

export function programConfig(c: VmStackConfig): Record<string, string> {
  return {
    compartmentId: "ocid1.compartment.oc1..vmlab",
    sshPublicKey: c.sshPublicKey,
    sshPrivateKey: c.sshPrivateKey,
    adminCidrs: JSON.stringify([c.adminCidr]),
    acknowledgeCharges: "true",
    activeColor: c.activeColor,
    releases: JSON.stringify(c.releases),
    valkeyPassword: c.valkeyPassword,
    sentinelPassword: c.sentinelPassword,
  };
}

function instanceOf(resources: readonly RecordedResource[], hostname: string): RecordedResource {
  const found = resources.filter(
    (r) => r.type === "oci:Core/instance:Instance" && r.inputs["displayName"] === hostname,
  );
  const [only] = found;
  if (only === undefined || found.length !== 1) {
    throw new Error(`vm: expected one instance named ${hostname}, found ${found.length}`);
  }
  return only;
}

/** The sizes of the volumes the program's VolumeAttachments attach to `instanceId`. */
function attachedVolumeGbs(resources: readonly RecordedResource[], instanceId: string): number[] {
  return resources
    .filter(
      (r) => r.type === "oci:Core/volumeAttachment:VolumeAttachment" && r.inputs["instanceId"] === instanceId,
    )
    .map((att) => {
      const volume = resources.find(
        (r) =>
          r.type === "oci:Core/volume:Volume" && mockId(r.type, r.name, r.inputs) === att.inputs["volumeId"],
      );
      const gbs = Number(volume?.inputs["sizeInGbs"]);
      if (!Number.isInteger(gbs) || gbs <= 0) {
        throw new Error(
          `vm: ${att.name} attaches no volume of a known size (${String(att.inputs["volumeId"])})`,
        );
      }
      return gbs;
    });
}

/**
 * Loads program.ts afresh under tsx (CommonJS) and runs it as index.ts does, so that each run
 * registers its resources again: the project's modules but the harness's own leave the require cache
 * first (as preview-report does).
 */
export function freshLoad(): Promise<unknown> {
  for (const key of Object.keys(require.cache)) {
    if (!/[/\\](node_modules|vm|tests[/\\]vm)[/\\]/.test(key)) Reflect.deleteProperty(require.cache, key);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh CommonJS load on purpose
  const program = require("../program") as typeof import("../program");
  return Promise.resolve(program.yquantStack());
}

/** Runs the program once under mocks with `config`; throws when the program refuses it. */
export async function loadProgram(
  c: VmStackConfig,
  load: () => Promise<unknown> = freshLoad,
): Promise<ProgramView> {
  const run = await recordProgram({ config: programConfig(c), load });
  if (run.error)
    throw new Error(`vm: the Pulumi program failed under the mock runtime: ${run.error.message}`);
  const nodes = {} as Record<NodeName, ProgramNode>;
  for (const name of NODE_NAMES) {
    const inst = instanceOf(run.resources, HOSTNAMES[name]);
    const metadata = inst.inputs["metadata"] as Record<string, string | undefined>;
    const vnic = inst.inputs["createVnicDetails"] as Record<string, string | undefined>;
    nodes[name] = {
      name,
      hostname: HOSTNAMES[name],
      privateIp: vnic["privateIp"] ?? "",
      userDataBytes: Buffer.from(metadata["user_data"] ?? "", "base64"),
      userData: zlib.gunzipSync(Buffer.from(metadata["user_data"] ?? "", "base64")).toString("utf8"),
      sshAuthorizedKeys: metadata["ssh_authorized_keys"] ?? "",
      blockVolumeGbs: attachedVolumeGbs(run.resources, mockId(inst.type, inst.name, inst.inputs)),
    };
  }
  const commands = run.resources
    .filter((r) => r.type === "command:remote:Command")
    .map((r): ProgramCommand => {
      const conn = r.inputs["connection"] as Record<string, unknown>;
      const proxy = conn["proxy"] as Record<string, unknown> | undefined;
      return {
        name: r.name,
        create: String(r.inputs["create"]),
        user: String(conn["user"]),
        host: String(conn["host"]),
        ...(proxy ? { proxyHost: String(proxy["host"]) } : {}),
      };
    });
  return { nodes, commands, outputs: run.outputs };
}

/** The release command for `color` and the switch command. */
export function pipelineCommands(view: ProgramView): {
  release: Record<Color, ProgramCommand>;
  switch: ProgramCommand;
} {
  const release = {} as Record<Color, ProgramCommand>;
  for (const color of COLORS) {
    const ip = view.nodes[color].privateIp;
    const found = view.commands.filter(
      (c) => c.host === ip && c.proxyHost !== undefined && c.create.includes("/opt/yquant/bin/deploy.sh "),
    );
    const [only] = found;
    if (only === undefined || found.length !== 1) {
      throw new Error(`vm: expected one release command for ${color}, found ${found.length}`);
    }
    release[color] = only;
  }
  const sw = view.commands.filter((c) => c.proxyHost === undefined && c.create.includes("switch-active.sh"));
  const [only] = sw;
  if (only === undefined || sw.length !== 1)
    throw new Error(`vm: expected one switch command, found ${sw.length}`);
  return { release, switch: only };
}
