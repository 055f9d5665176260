/**
 * What the mocked providers answer under the one mock runtime (mock-program.ts): the state a created
 * resource reports beyond its inputs, and the invokes the program makes (availability domains, the
 * image lookup, the gate's VNIC and private IPs, the instances' own reading). Unknown invokes throw.
 */

export const GATE_PUBLIC_IP = "203.0.113.10";
export const GATE_PRIMARY_PRIVATE_IP_ID = "ocid1.privateip.oc1..gateprimary";
export const AVAILABILITY_DOMAINS = [
  "Uocm:EU-FRANKFURT-1-AD-1",
  "Uocm:EU-FRANKFURT-1-AD-2",
  "Uocm:EU-FRANKFURT-1-AD-3",
];
export const imageIdFor = (shape: string): string =>
  `ocid1.image.oc1..${shape.replace(/[^A-Za-z0-9]/g, "").toLowerCase()}`;

export function extraState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "oci:Core/instance:Instance": {
      const vnic = (inputs["createVnicDetails"] ?? {}) as Record<string, unknown>;
      return {
        privateIp: vnic["privateIp"],
        publicIp: vnic["assignPublicIp"] === "true" ? "198.51.100.20" : "",
      };
    }
    case "oci:Core/publicIp:PublicIp":
      return { ipAddress: GATE_PUBLIC_IP };
    case "random:index/randomPassword:RandomPassword":
      return { result: `Gen${name.replace(/[^A-Za-z0-9]/g, "")}0123456789abcdefghij`.slice(0, 32) };
    case "command:remote:Command":
      return { stdout: "ok", stderr: "" };
    default:
      return {};
  }
}

/** The image each instance was created with (non-preview runs), as `getInstance` reports it. */
const createdImages = new Map<string, string>();
/** The launch metadata each instance was created with, as `getInstance` reports it. */
const createdMetadata = new Map<string, unknown>();

export function invokeResult(
  token: string,
  inputs: Record<string, unknown>,
  imageRevision: number,
): Record<string, unknown> {
  switch (token) {
    case "oci:Identity/getAvailabilityDomains:getAvailabilityDomains":
      return {
        id: "ads",
        compartmentId: inputs["compartmentId"],
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
        // Newest first, as the query's sortOrder DESC returns them.
        images: [
          {
            id: `${imageIdFor(String(inputs["shape"]))}${imageRevision > 0 ? `-r${imageRevision}` : ""}`,
            displayName: "newest",
          },
          { id: "ocid1.image.oc1..older", displayName: "older" },
        ],
      };
    case "oci:Core/getVnicAttachments:getVnicAttachments":
      // A secondary VNIC listed first: the program must pick nicIndex 0, not the first entry.
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
      // A secondary private IP listed first: the program must pick the primary one.
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
    case "oci:Core/getInstance:getInstance": {
      const image = createdImages.get(String(inputs["instanceId"]));
      if (image === undefined)
        throw new Error(`getInstance of an instance never created: ${String(inputs["instanceId"])}`);
      return {
        ...inputs,
        id: inputs["instanceId"],
        image,
        metadata: createdMetadata.get(String(inputs["instanceId"])) ?? {},
        sourceDetails: [{ sourceId: image, sourceType: "image" }],
      };
    }
    default:
      throw new Error(`un-mocked invoke ${token}`);
  }
}

/** Remembers a created instance's image and launch metadata, as `getInstance` then reports them. */
export function rememberInstance(id: string, image: string, metadata: unknown): void {
  createdImages.set(id, image);
  createdMetadata.set(id, metadata);
}
