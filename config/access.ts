/**
 * Who and what may reach the stack: the compartment that holds it, and the SSH key pair (the public
 * key on every VM, the private key for the switch and release commands).
 */
import { ConfigError, RawConfig, SecretString, checkPattern, readSecret, readString } from "./read";

export const COMPARTMENT_PATTERN = /^ocid1\.(compartment|tenancy)\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]+$/;
export const SSH_PUBLIC_KEY_PATTERN =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;

const COMPARTMENT_RULE = "a compartment or tenancy OCID (ocid1.compartment.… or ocid1.tenancy.…)";
const SSH_PUBLIC_KEY_RULE = "an OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa-sha2-…)";
const SSH_PRIVATE_KEY_RULE =
  "a PEM or OpenSSH private key, set with `pulumi config set --secret sshPrivateKey < key`";

export interface AccessSettings {
  readonly compartmentId: string;
  readonly sshPublicKey: string;
  readonly sshPrivateKey: SecretString;
}

export function readAccess(raw: RawConfig): AccessSettings {
  const compartmentId = checkPattern(
    "compartmentId",
    readString(raw, "compartmentId", COMPARTMENT_RULE),
    COMPARTMENT_PATTERN,
    COMPARTMENT_RULE,
  );
  const sshPublicKey = readString(raw, "sshPublicKey", SSH_PUBLIC_KEY_RULE).trim();
  for (const line of sshPublicKey.split("\n")) {
    checkPattern("sshPublicKey", line.trim(), SSH_PUBLIC_KEY_PATTERN, SSH_PUBLIC_KEY_RULE);
  }
  const privateKey = readSecret(raw, "sshPrivateKey", SSH_PRIVATE_KEY_RULE);
  if (privateKey === undefined || privateKey === "") {
    throw new ConfigError("sshPrivateKey", "a value is required but none is set", SSH_PRIVATE_KEY_RULE);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
    throw new ConfigError("sshPrivateKey", "the value is not a private key", SSH_PRIVATE_KEY_RULE);
  }
  return { compartmentId, sshPublicKey, sshPrivateKey: new SecretString(privateKey) };
}
