/**
 * GateAddress: a RESERVED public IP bound to the gate's primary private IP. A reserved IP outlives the
 * instance, so DNS keeps pointing at the gate across a gate rebuild: the new gate's primary private
 * IP is looked up again and the same public IP is moved onto it.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";

export interface GateAddressArgs {
  /** Compartment OCID of the public IP and of the VNIC lookup. Required, no default. */
  readonly compartmentId: pulumi.Input<string>;
  /** OCID of the gate instance whose primary private IP gets the address. Required, no default. */
  readonly instanceId: pulumi.Input<string>;
  /** Display name of the public IP. Default: `<name>-public-ip`. */
  readonly displayName?: string;
}

export class GateAddress extends pulumi.ComponentResource {
  public readonly publicIp: pulumi.Output<string>;
  public readonly publicIpId: pulumi.Output<string>;
  public readonly privateIpId: pulumi.Output<string>;

  constructor(name: string, args: GateAddressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:network:GateAddress", name, {}, opts);
    const invokeOpts = { parent: this };
    const attachments = oci.core.getVnicAttachmentsOutput(
      { compartmentId: args.compartmentId, instanceId: args.instanceId },
      invokeOpts,
    );
    const vnicId = attachments.vnicAttachments.apply((list) => {
      const primary = [...list].sort((a, b) => a.nicIndex - b.nicIndex)[0];
      if (!primary) throw new pulumi.ResourceError("The gate instance has no VNIC attachment", this);
      return primary.vnicId;
    });
    const privateIps = oci.core.getPrivateIpsOutput({ vnicId }, invokeOpts);
    const privateIpId = privateIps.privateIps.apply((list) => {
      const primary = list.find((ip) => ip.isPrimary);
      if (!primary) throw new pulumi.ResourceError("The gate's VNIC has no primary private IP", this);
      return primary.id;
    });
    const address = new oci.core.PublicIp(
      `${name}-public-ip`,
      {
        compartmentId: args.compartmentId,
        lifetime: "RESERVED",
        privateIpId,
        displayName: args.displayName ?? `${name}-public-ip`,
      },
      { parent: this },
    );

    this.publicIp = address.ipAddress;
    this.publicIpId = address.id;
    this.privateIpId = privateIpId;
    this.registerOutputs({
      publicIp: this.publicIp,
      publicIpId: this.publicIpId,
      privateIpId: this.privateIpId,
    });
  }
}
