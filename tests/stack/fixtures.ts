/** Config values shared by the stack tests. The secret values are scanned for in every output. */

export const VALKEY_PASSWORD = "TestValkeyPassword0123456789abc";
export const SENTINEL_PASSWORD = "TestSentinelPassword0123456789xy";
export const SSH_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTONLYNOTAREALKEYTESTONLYNOTAREALKEY\n-----END OPENSSH PRIVATE KEY-----\n";
export const TLS_PEM =
  "-----BEGIN CERTIFICATE-----\nTESTCERTIFICATEBODY\n-----END CERTIFICATE-----\n" +
  "-----BEGIN PRIVATE KEY-----\nTESTPRIVATEKEYBODY\n-----END PRIVATE KEY-----\n";
export const SSH_PUBLIC_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTONLYTESTONLYTESTONLYTESTONLY test@example";
export const COMPARTMENT = "ocid1.compartment.oc1..aaaatestcompartment";
export const ADMIN_CIDR = "198.51.100.7/32";

export const SECRET_VALUES = [VALKEY_PASSWORD, SENTINEL_PASSWORD, SSH_PRIVATE_KEY, TLS_PEM];

/*
 * Both fixtures set acknowledgeCharges: the user's layout (two 2 OCPU / 12 GB engines) is beyond the
 * Always Free A1 allowance in the cost model. The refusal itself is tested with a mocked cost model.
 */

/** Raw config as `parseConfig` takes it (keys without the namespace). */
export function validRaw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    compartmentId: COMPARTMENT,
    sshPublicKey: SSH_PUBLIC_KEY,
    sshPrivateKey: SSH_PRIVATE_KEY,
    adminCidrs: [ADMIN_CIDR],
    acknowledgeCharges: true,
    ...overrides,
  };
}

/** Config as Pulumi passes it to the program: strings, with lists and objects as JSON. */
export function programConfig(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    compartmentId: COMPARTMENT,
    sshPublicKey: SSH_PUBLIC_KEY,
    sshPrivateKey: SSH_PRIVATE_KEY,
    adminCidrs: JSON.stringify([ADMIN_CIDR]),
    acknowledgeCharges: "true",
    ...overrides,
  };
}
