/**
 * Release: one engine's release command. `sudo /opt/yquant/bin/deploy.sh <ref>` runs on the engine's
 * pinned private IP over SSH, with the gate as jump host (`connection.proxy`): the engines have no
 * public IP. The ref is in `create` and `update`, so a new ref re-runs the command as an update of
 * this resource only; its trigger is the engine's instance ID, so a rebuilt engine (new instance)
 * gets the release again from `create`. A refused update (bluegreen/guard.ts) registers nothing here.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Color } from "../cloud-init/layout";
import { PreviousDeployment } from "./guard";
import { releaseCommand } from "./commands";
import { releaseRefProblem } from "../rules";

/** SSH user of Canonical's Ubuntu images. */
export const SSH_USER = "ubuntu";
/** A VM that was just created needs a while for sshd: retry the dial instead of failing at once. */
export const DIAL_ERROR_LIMIT = 30;

/** SSH as `ubuntu` to `host` with the stack's key; shared by the switch, the releases and their jump. */
export function sshTo(host: pulumi.Input<string>, privateKey: pulumi.Input<string>) {
  return { host, user: SSH_USER, privateKey, dialErrorLimit: DIAL_ERROR_LIMIT };
}

export interface ReleaseArgs {
  /** The engine's color. Required, no default. */
  readonly color: Color;
  /** The engine's hostname (yq-blue or yq-green), in messages. Required, no default. */
  readonly hostname: string;
  /** The engine's pinned private address. Required, no default. */
  readonly privateIp: string;
  /** The release ref to deploy (`placeholder` or a git ref of appRepository). Required, no default. */
  readonly release: string;
  /** The gate's public address, the jump host. Required, no default. */
  readonly gateHost: pulumi.Input<string>;
  /** The private key of the `ubuntu` user (secret). Required, no default. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The engine's instance ID: a new instance (rebuild) re-runs the release. Required, no default. */
  readonly instanceId: pulumi.Input<string>;
  /** The guarded last deployment: the command waits for it and is not registered when it rejects. */
  readonly previous: pulumi.Input<PreviousDeployment>;
}

export class Release extends pulumi.ComponentResource {
  public readonly release: string;
  /** The command's output (deploy.sh's log). */
  public readonly stdout: pulumi.Output<string>;
  /** Resolves to the deployed release once the command succeeded. */
  public readonly deployed: pulumi.Output<string>;
  public readonly command: command.remote.Command;

  constructor(name: string, args: ReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:pipeline:Release", name, {}, opts);
    const problem = releaseRefProblem(args.release);
    if (problem) throw new pulumi.ResourceError(`${name}: ${problem}`, this);
    const text = releaseCommand(args.hostname, args.release);
    const script = pulumi.output(args.previous).apply(() => text);
    this.command = new command.remote.Command(
      `${name}-deploy`,
      {
        connection: {
          ...sshTo(args.privateIp, args.sshPrivateKey),
          proxy: sshTo(args.gateHost, args.sshPrivateKey),
        },
        create: script,
        update: script,
        triggers: [args.instanceId],
      },
      { parent: this },
    );
    this.release = args.release;
    this.stdout = this.command.stdout;
    this.deployed = this.command.stdout.apply(() => args.release);
    this.registerOutputs({ release: this.release, deployed: this.deployed });
  }
}
