/**
 * The stack as the VMs see it: an SSH key pair and the Valkey/Sentinel passwords kept in the work
 * directory (so a second `up` renders the same user data), the program run under mocks for a given
 * active color and releases, and the packages its user data asks for (what the image's local
 * repository must serve).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { Color } from "../cloud-init/layout";
import { ADMIN_ADDRESS, sh, workDir } from "./machine";
import { loadProgram, type ProgramView } from "./program";

export interface StackSecrets {
  readonly keyFile: string;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly valkeyPassword: string;
  readonly sentinelPassword: string;
}

export function stackSecrets(): StackSecrets {
  const dir = path.join(workDir(), "stack");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, "id_ed25519");
  if (!fs.existsSync(keyFile))
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "yquant-vm", "-f", keyFile]);
  const pwFile = path.join(dir, "passwords.json");
  if (!fs.existsSync(pwFile)) {
    const pw = (): string => crypto.randomBytes(24).toString("base64url");
    fs.writeFileSync(pwFile, JSON.stringify({ valkey: pw(), sentinel: pw() }), { mode: 0o600 });
  }
  const pws = JSON.parse(fs.readFileSync(pwFile, "utf8")) as { valkey: string; sentinel: string };
  return {
    keyFile,
    publicKey: fs.readFileSync(`${keyFile}.pub`, "utf8").trim(),
    privateKey: fs.readFileSync(keyFile, "utf8"),
    valkeyPassword: pws.valkey,
    sentinelPassword: pws.sentinel,
  };
}

export async function stackProgram(
  secrets: StackSecrets,
  activeColor: Color = "blue",
  releases: Readonly<Record<Color, string>> = { blue: "placeholder", green: "placeholder" },
): Promise<ProgramView> {
  return loadProgram({
    sshPublicKey: secrets.publicKey,
    sshPrivateKey: secrets.privateKey,
    adminCidr: `${ADMIN_ADDRESS}/32`,
    activeColor,
    releases,
    valkeyPassword: secrets.valkeyPassword,
    sentinelPassword: secrets.sentinelPassword,
  });
}

/** The `packages:` of a user data, in order. */
export function userDataPackages(userData: string): string[] {
  const parsed = yaml.load(userData) as { packages?: unknown } | null;
  const packages = parsed?.packages;
  if (!Array.isArray(packages) || packages.some((p) => typeof p !== "string")) {
    throw new Error("vm: the user data has no `packages:` list of names");
  }
  return packages as string[];
}
