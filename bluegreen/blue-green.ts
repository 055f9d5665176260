/**
 * BlueGreen: the per-color release commands and the switch, with the order between them: the switch
 * runs after both releases, so an update that deploys to a color and switches to it deploys first.
 */
import * as pulumi from "@pulumi/pulumi";
import { Color, HOSTNAMES } from "../cloud-init/layout";
import { PreviousDeployment } from "./guard";
import { Release } from "./release";
import { Switch } from "./switch";

export interface BlueGreenArgs {
  /** The color live traffic goes to. Required, no default. */
  readonly activeColor: Color;
  /** Release ref per color. Required, no default. */
  readonly releases: Readonly<Record<Color, string>>;
  /** Pinned private address per engine. Required, no default. */
  readonly enginePrivateIps: Readonly<Record<Color, string>>;
  /** Instance IDs: a new engine re-runs its release, a new gate re-runs the switch. Required. */
  readonly instanceIds: Readonly<Record<"gate" | Color, pulumi.Input<string>>>;
  /** Drain window of the switch in seconds. Default 30. */
  readonly drainSeconds?: number;
  /** Move the message Valkey master to the active color after the switch. Default true. */
  readonly messageMasterFollowsActive?: boolean;
  /** The gate's public address (SSH target, and jump host to the engines). Required, no default. */
  readonly gateHost: pulumi.Input<string>;
  /** Private key of the `ubuntu` user (secret). Required, no default. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The guarded last deployment (DeploymentHistory.guarded). Required, no default. */
  readonly previous: pulumi.Input<PreviousDeployment>;
}

export class BlueGreen extends pulumi.ComponentResource {
  public readonly releases: Readonly<Record<Color, Release>>;
  public readonly switch: Switch;
  /** Resolves to the live color once the switch succeeded (stack output `liveColor`). */
  public readonly liveColor: pulumi.Output<Color>;
  /** Resolves per color once its release succeeded (stack output `deployedReleases`). */
  public readonly deployedReleases: Readonly<Record<Color, pulumi.Output<string>>>;

  constructor(name: string, args: BlueGreenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:pipeline:BlueGreen", name, {}, opts);
    const release = (color: Color): Release =>
      new Release(
        HOSTNAMES[color],
        {
          color,
          hostname: HOSTNAMES[color],
          privateIp: args.enginePrivateIps[color],
          release: args.releases[color],
          gateHost: args.gateHost,
          sshPrivateKey: args.sshPrivateKey,
          instanceId: args.instanceIds[color],
          previous: args.previous,
        },
        { parent: this },
      );
    this.releases = { blue: release("blue"), green: release("green") };
    this.switch = new Switch(
      name,
      {
        activeColor: args.activeColor,
        drainSeconds: args.drainSeconds,
        messageMasterFollowsActive: args.messageMasterFollowsActive,
        gateHost: args.gateHost,
        gateInstanceId: args.instanceIds.gate,
        sshPrivateKey: args.sshPrivateKey,
        previous: args.previous,
        after: [this.releases.blue, this.releases.green],
      },
      { parent: this },
    );
    this.liveColor = this.switch.liveColor;
    this.deployedReleases = { blue: this.releases.blue.deployed, green: this.releases.green.deployed };
    this.registerOutputs({ liveColor: this.liveColor, deployedReleases: this.deployedReleases });
  }
}
