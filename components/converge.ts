/**
 * Converge: brings one running node's rendered files into force in place (cloud-init/converge.ts,
 * cloud-init/scripts/converge.sh), without replacing its VM. A `command:remote:Command` over SSH
 * (engines through the gate as jump host) installs converge.sh from this repository, then runs it
 * with the node's bundle on stdin (a secret: it holds the passwords). The trigger is the bundle's
 * hash: a changed file re-runs the command, and converge.sh then writes and reloads only what
 * differs; a node whose files did not change gets no command at all. Cloud-init stays the first-boot
 * path: on a new instance (its ID is the other trigger) the same files are already in force and
 * converge.sh does nothing. A changed SSH connection only re-runs it, which is a no-op too.
 */
import * as zlib from "node:zlib";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  convergeScript,
  convergeDigest,
  convergeEntries,
  renderConvergeBundle,
} from "../cloud-init/converge";
import { Color, Layout, NodeName, Topology, gateNode, nodeSpec, otherColor } from "../cloud-init/layout";
import { sshTo } from "../bluegreen/release";
import { BIN, waitForCloudInit } from "../bluegreen/commands";

/**
 * The command text: wait for cloud-init, install converge.sh (its bytes, gzip + base64, so the text
 * changes exactly when the script does), run it as root reading the bundle from stdin. Nothing before
 * converge.sh may read stdin, so those steps read /dev/null.
 */
export function convergeCommand(hostname: string, script: string): string {
  const payload = zlib.gzipSync(Buffer.from(script, "utf8"), { level: 9 }).toString("base64");
  const target = `${BIN}/converge.sh`;
  return [
    "set -eu",
    `{\n${waitForCloudInit(hostname)}\n} </dev/null`,
    `echo '${payload}' | base64 -d | gunzip | sudo tee ${target}.new >/dev/null`,
    `sudo chmod 0755 ${target}.new </dev/null && sudo mv -f ${target}.new ${target} </dev/null`,
    `sudo ${target}`,
  ].join("\n");
}

export interface ConvergeArgs {
  /** The node's hostname (yq-gate, yq-blue, yq-green), in messages. Required, no default. */
  readonly hostname: string;
  /** The node's converge bundle (renderConvergeBundle), secret. Required, no default. */
  readonly bundle: pulumi.Input<string>;
  /** SSH target: the gate's public address, or an engine's private one. Required, no default. */
  readonly host: pulumi.Input<string>;
  /** Jump host (the gate's public address) for a node without a public address. Default: none. */
  readonly jumpHost?: pulumi.Input<string>;
  /** Private key of the `ubuntu` user (secret). Required, no default. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The node's instance ID: a new instance runs the command again (a no-op). Required, no default. */
  readonly instanceId: pulumi.Input<string>;
  /** Resources this converge runs after (the standby before the active, the engines before the gate). */
  readonly after?: pulumi.Resource[];
}

export class Converge extends pulumi.ComponentResource {
  public readonly command: command.remote.Command;
  /** converge.sh's report (which files differed, what it reloaded). */
  public readonly stdout: pulumi.Output<string>;

  constructor(name: string, args: ConvergeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:compute:Converge", name, {}, opts);
    const bundle = pulumi.secret(args.bundle);
    const text = convergeCommand(args.hostname, convergeScript());
    this.command = new command.remote.Command(
      `${name}-converge`,
      {
        connection: {
          ...sshTo(args.host, args.sshPrivateKey),
          ...(args.jumpHost !== undefined ? { proxy: sshTo(args.jumpHost, args.sshPrivateKey) } : {}),
        },
        create: text,
        update: text,
        stdin: bundle,
        triggers: [pulumi.secret(pulumi.output(bundle).apply(convergeDigest)), args.instanceId],
      },
      { parent: this, dependsOn: args.after ?? [] },
    );
    this.stdout = this.command.stdout;
    this.registerOutputs({ stdout: this.stdout });
  }
}

export interface ConvergenceArgs {
  /** The nodes (one Converge each). Required, no default. */
  readonly topology: Topology;
  /** The one Layout every node's files are rendered from (secret). Required, no default. */
  readonly layout: pulumi.Input<Layout>;
  /** OpenSSH public key line(s) for the `ubuntu` user's authorized_keys. Required, no default. */
  readonly sshPublicKey: string;
  /** The active color after this update: the standby engine converges first. Required. */
  readonly activeColor: Color;
  /** The gate's public address (SSH target, and jump host to the others). Required, no default. */
  readonly gateHost: pulumi.Input<string>;
  /** Pinned private address per node. Required, no default. */
  readonly privateIps: Readonly<Record<NodeName, string>>;
  /** Instance ID per node. Required, no default. */
  readonly instanceIds: Readonly<Record<NodeName, pulumi.Input<string>>>;
  /** Private key of the `ubuntu` user (secret). Required, no default. */
  readonly sshPrivateKey: pulumi.Input<string>;
}

/**
 * Convergence: one Converge per node, one after the other: the standby engine, the active engine,
 * any other node, the gate last. A node whose bundle did not change gets no command.
 */
export class Convergence extends pulumi.ComponentResource {
  public readonly converges: Readonly<Record<NodeName, Converge>>;

  constructor(name: string, args: ConvergenceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:compute:Convergence", name, {}, opts);
    const gate = gateNode(args.topology);
    const first: NodeName[] = [otherColor(args.activeColor), args.activeColor];
    const order = [
      ...first,
      ...args.topology.nodes.map((n) => n.name).filter((n) => !first.includes(n) && n !== gate),
      gate,
    ];
    const converges: Record<NodeName, Converge> = {};
    let previous: Converge | undefined;
    for (const node of order) {
      const hostname = nodeSpec(args.topology, node).hostname;
      const bundle = pulumi
        .output(args.layout)
        .apply((layout) => renderConvergeBundle(convergeEntries(layout, node, args.sshPublicKey)));
      const converge: Converge = new Converge(
        hostname,
        {
          hostname,
          bundle,
          host: node === gate ? args.gateHost : (args.privateIps[node] ?? ""),
          ...(node === gate ? {} : { jumpHost: args.gateHost }),
          sshPrivateKey: args.sshPrivateKey,
          instanceId: args.instanceIds[node] ?? "",
          after: previous ? [previous] : [],
        },
        { parent: this },
      );
      converges[node] = converge;
      previous = converge;
    }
    this.converges = converges;
    this.registerOutputs({});
  }
}
