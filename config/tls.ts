/**
 * The `tlsPem` check, at preview time: the PEM must hold a certificate chain that node:crypto parses,
 * and a private key that parses and belongs to the first certificate (the one HAProxy serves), so a
 * swapped or truncated file is refused before anything is created rather than at the gate's boot.
 */
import * as crypto from "node:crypto";
import { ConfigError, RawConfig, readSecret } from "./read";
import { CONFIG_SCHEMA } from "./schema";

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PRIVATE_KEY = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/** Why `pem` is not a usable certificate chain and key, or undefined when it is one. */
export function tlsPemProblem(pem: string): string | undefined {
  const certificates = pem.match(CERTIFICATE) ?? [];
  const key = PRIVATE_KEY.exec(pem)?.[0];
  if (certificates.length === 0 || key === undefined) {
    return "the value does not hold both a certificate and a private key";
  }
  const parsed: crypto.X509Certificate[] = [];
  for (const [i, block] of certificates.entries()) {
    try {
      parsed.push(new crypto.X509Certificate(block));
    } catch {
      return `certificate ${i + 1} of ${certificates.length} does not parse`;
    }
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch {
    return "the private key does not parse (an encrypted key is not accepted)";
  }
  if (!parsed[0]?.checkPrivateKey(privateKey)) {
    return "the private key does not match the first certificate";
  }
  return undefined;
}

const TLS_RULE =
  "empty (self-signed at first boot) or a PEM with the certificate chain and the private key of its first certificate";

/** `tlsPem`: empty, or a chain and key that `tlsPemProblem` accepts. */
export function readTlsPem(raw: RawConfig): string {
  const tlsPem = readSecret(raw, "tlsPem", TLS_RULE) ?? CONFIG_SCHEMA.tlsPem.default;
  const problem = tlsPem === "" ? undefined : tlsPemProblem(tlsPem);
  if (problem !== undefined) throw new ConfigError("tlsPem", problem, TLS_RULE);
  return tlsPem;
}
