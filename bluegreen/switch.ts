/**
 * Switch: live traffic to `activeColor`, as one command on the gate over SSH (the gate's reserved
 * public IP, user ubuntu): wait for cloud-init, then `sudo /opt/yquant/bin/switch-active.sh <color>
 * --drain <drainSeconds>` (the script an operator runs by hand), then, with
 * messageMasterFollowsActive, `promote-master.sh <color>` (the lossless move of the message Valkey
 * master to the new active; a no-op when it is the master already). Steps: commands.ts switchSteps.
 *
 * The color is in `create` AND `update`, never in `triggers`: with @pulumi/command 1.x a change of
 * `create`/`update` is an update of this resource (it runs `update`), while `triggers` (and nothing
 * else here) is replace-on-change. So toggling activeColor is an in-place update of this one
 * resource. The only trigger is the gate's instance ID: a rebuilt gate gets the switch again. When the script refuses an unhealthy target it exits 1 with its message: the command
 * fails, `pulumi up` fails with that message, and traffic stays where it was.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Color } from "../cloud-init/layout";
import { PreviousDeployment } from "./guard";
import { switchCommand } from "./commands";
import { sshTo } from "./release";

export interface SwitchArgs {
  /** The color live traffic goes to. Required, no default. */
  readonly activeColor: Color;
  /** Drain window in seconds, 0 to 3600. Default 30. */
  readonly drainSeconds?: number;
  /** Move the message Valkey master to the active color after the switch. Default true. */
  readonly messageMasterFollowsActive?: boolean;
  /** The gate's public address. Required, no default. */
  readonly gateHost: pulumi.Input<string>;
  /**
   * The gate's instance ID, the command's only trigger: a rebuilt gate boots with the bootstrap
   * color in force, so a new gate instance runs the switch again (from `create`). Required.
   */
  readonly gateInstanceId: pulumi.Input<string>;
  /** The private key of the `ubuntu` user (secret). Required, no default. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The guarded last deployment: the command waits for it and is not registered when it rejects. */
  readonly previous: pulumi.Input<PreviousDeployment>;
  /** Resources the switch runs after (the release commands). Default: none. */
  readonly after?: pulumi.Resource[];
}

export class Switch extends pulumi.ComponentResource {
  public readonly activeColor: Color;
  /** Resolves to the live color once the switch command succeeded. */
  public readonly liveColor: pulumi.Output<Color>;
  public readonly command: command.remote.Command;

  constructor(name: string, args: SwitchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:pipeline:Switch", name, {}, opts);
    const text = switchCommand({
      color: args.activeColor,
      drainSeconds: args.drainSeconds ?? 30,
      messageMasterFollowsActive: args.messageMasterFollowsActive ?? true,
    });
    const script = pulumi.output(args.previous).apply(() => text);
    this.command = new command.remote.Command(
      `${name}-switch-active`,
      {
        connection: sshTo(args.gateHost, args.sshPrivateKey),
        create: script,
        update: script,
        triggers: [args.gateInstanceId],
      },
      { parent: this, dependsOn: args.after ?? [] },
    );
    this.activeColor = args.activeColor;
    this.liveColor = this.command.stdout.apply(() => args.activeColor);
    this.registerOutputs({ activeColor: this.activeColor, liveColor: this.liveColor });
  }
}
