/**
 * How a configuration key is declared (kind, default, secrecy, description, limits, docs text), the
 * length limits the keys share, and the builders of the keys that come in pairs or threes (the
 * three CIDRs, the two image keys, the two passwords). The table itself is config/schema.ts.
 */
/**
 * How a key is read: a scalar string, boolean or integer (each parsed from the whole string the CLI
 * passes), a secret string, a list, or a `{blue, green}` object.
 */
export type KeyKind = "string" | "boolean" | "integer" | "secret" | "list" | "object";

/** An English and a Korean text, for the two docs tables. */
export type DocText = readonly [en: string, ko: string];

export interface KeySpec {
  readonly kind: KeyKind;
  /** The default; undefined: required, or (with `generated`) generated when unset. */
  readonly default?: string | number | boolean;
  /** A secret left unset is generated (`@pulumi/random`). */
  readonly generated?: boolean;
  /** Read as a secret: never printed, passed on as a Pulumi secret. */
  readonly secret: boolean;
  /** `Pulumi.yaml`'s description, word for word. */
  readonly description: string;
  /** Most characters of a string or secret, or most items of a list. */
  readonly maxLength?: number;
  /** An integer's range, when it does not depend on another key. */
  readonly range?: readonly [number, number];
  /** The docs tables' type column (default: the kind) and rule column. */
  readonly doc: { readonly type?: DocText; readonly default?: DocText; readonly rule: DocText };
}

/** Most admin CIDRs: each opens three NSG rules and three host firewall lines on the gate. */
export const MAX_ADMIN_CIDRS = 16;
/** Most characters of a Valkey or Sentinel password. */
export const MAX_PASSWORD_LENGTH = 128;
/**
 * Most characters of the TLS PEM: it travels uncompressed in the gate's user data, which OCI caps at
 * 32,000 bytes base64; docs/architecture.md gives the budget (about 5.3 KB, which holds an RSA-4096
 * certificate and key of 5.1 KB). Past it the gate's user data is refused at preview, not at boot.
 */
export const MAX_TLS_PEM_LENGTH = 5300;
/** Most characters of the SSH private key. */
export const MAX_SSH_KEY_LENGTH = 16_384;
/**
 * Most characters of the public key line(s): `ssh_authorized_keys` shares OCI's 32,000-byte metadata
 * limit with `user_data`, and the gate's user data at the config's other limits leaves about 4.1 KB
 * (tests/render/user-data.test.ts). 4,096 holds five RSA-4096 lines or dozens of ed25519 ones.
 */
export const MAX_SSH_PUBLIC_KEYS_LENGTH = 4096;
/** Most characters of a one-line string setting (URLs, build command, OCIDs, shapes). */
export const MAX_LINE_LENGTH = 1024;

export const oneOf = (values: readonly string[]): DocText => [values.join(", "), values.join(", ")];

/** A CIDR key: at most `255.255.255.255/32`, checked by config/cidr.ts. */
export function cidrKey(defaultCidr: string, description: string, rule: DocText) {
  return {
    kind: "string",
    default: defaultCidr,
    secret: false,
    maxLength: 18,
    description,
    doc: { type: ["CIDR", "CIDR"], rule },
  } as const satisfies KeySpec;
}

export function imageKey(whose: string, shapeKey: string) {
  return {
    kind: "string",
    default: "",
    secret: false,
    maxLength: MAX_LINE_LENGTH,
    description: `Pin ${whose} image OCID; empty looks up the newest Canonical Ubuntu 24.04 for ${shapeKey}.`,
    doc: {
      rule: [
        "empty: newest Canonical Ubuntu 24.04 for the shape; else `ocid1.image.…`",
        "비어 있으면 셰이프별 최신 Canonical Ubuntu 24.04, 아니면 `ocid1.image.…`",
      ],
    },
  } as const satisfies KeySpec;
}

export function passwordKey(service: "Valkey" | "Sentinel") {
  const key = `${service.toLowerCase()}Password`;
  return {
    kind: "secret",
    generated: true,
    secret: true,
    maxLength: MAX_PASSWORD_LENGTH,
    description: `Secret. Password of every ${service} (at least 16 characters). Empty generates one (@pulumi/random). Set with \`pulumi config set --secret ${key}\`.`,
    doc: {
      rule: [
        `16 to ${MAX_PASSWORD_LENGTH} characters of \`A-Z a-z 0-9 . _ ~ + = @ % : , -\``,
        `\`A-Z a-z 0-9 . _ ~ + = @ % : , -\` 중 16~${MAX_PASSWORD_LENGTH}자`,
      ],
    },
  } as const satisfies KeySpec;
}
