/** Config values shared by the stack tests. The secret values are scanned for in every output. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const VALKEY_PASSWORD = "TestValkeyPassword0123456789abc";
export const SENTINEL_PASSWORD = "TestSentinelPassword0123456789xy";
export const SSH_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTONLYNOTAREALKEYTESTONLYNOTAREALKEY\n-----END OPENSSH PRIVATE KEY-----\n";
/** A throwaway self-signed certificate and its key, made by openssl for this test run. */
export const TLS_PEM = makeTlsPem("yquant-test");

/** A certificate and key pair from openssl (`req -x509`, P-256), PEM text: certificate first. */
export function makeTlsPem(commonName: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yq-tls-"));
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
        "-keyout",
        key,
        "-out",
        cert,
        "-subj",
        `/CN=${commonName}`,
        "-days",
        "2",
      ]),
      { stdio: "ignore", timeout: 10_000 },
    );
    return fs.readFileSync(cert, "utf8") + fs.readFileSync(key, "utf8");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
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
