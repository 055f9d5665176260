/**
 * A cloud-style sample Layout, for the render command and the tests: the program's own builder
 * (stack-layout.ts) over the config `parseConfig` reads when only the required keys are set (a
 * sample compartment, SSH key and admin CIDR), with sample secrets. Its addresses, Valkey sizes and
 * drain window are therefore the ones a stack with the defaults gets; nothing here repeats them.
 * Never deployed.
 */
import { Layout, TOPOLOGY, USER_SECRETS, UserSecret } from "../cloud-init/layout";
import { parseConfig } from "../config";
import { buildCloudLayout } from "../stack-layout";

/** The required keys, with sample values; every other key takes its schema default. */
const SAMPLE_CONFIG = {
  compartmentId: "ocid1.compartment.oc1..sample",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISAMPLEONLYSAMPLEONLYSAMPLEONLY sample@example",
  sshPrivateKey:
    "-----BEGIN OPENSSH PRIVATE KEY-----\nSAMPLEONLYNOTAKEY\n-----END OPENSSH PRIVATE KEY-----\n",
  adminCidrs: ["203.0.113.0/24"],
  // The user's engines (2 x 2 OCPU / 12 GB) are beyond the Always Free A1 allowance in the cost model.
  acknowledgeCharges: true,
};

/** `overrides.topology` (default: the stack's) gives the nodes; their addresses follow its host offsets. */
export function sampleLayout(overrides: Partial<Layout> = {}): Layout {
  const topology = overrides.topology ?? TOPOLOGY;
  const secrets = {
    valkeyPassword: "sample-valkey-password-0000",
    sentinelPassword: "sample-sentinel-password-0000",
    tlsPem: "",
    users: sampleUserPasswords("sample"),
  };
  return { ...buildCloudLayout(parseConfig(SAMPLE_CONFIG, topology), secrets, topology), ...overrides };
}

/** One distinct password per ACL user (USER_SECRETS): `<prefix>-<key>-password-0000`. Samples and tests. */
export function sampleUserPasswords(prefix: string): Record<UserSecret, string> {
  return Object.fromEntries(USER_SECRETS.map((key) => [key, `${prefix}-${key}-password-0000`])) as Record<
    UserSecret,
    string
  >;
}
