import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  CONFIG_KEYS,
  CONFIG_SCHEMA,
  ConfigError,
  SecretString,
  cidrContains,
  cidrsOverlap,
  loadConfig,
  parseCidr,
  parseConfig,
} from "../../config";
import {
  ADMIN_CIDR,
  COMPARTMENT,
  SSH_PRIVATE_KEY,
  SSH_PUBLIC_KEY,
  TLS_PEM,
  VALKEY_PASSWORD,
  makeTlsPem,
  validRaw,
} from "../fixtures";

const ROOT = path.resolve(__dirname, "../..");

function refusal(overrides: Record<string, unknown>, remove: string[] = []): string {
  const raw = Object.fromEntries(
    Object.entries(validRaw(overrides)).filter(([key]) => !remove.includes(key)),
  );
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
}

const PASSWORD_RULE =
  "Allowed: 16 to 128 characters from A-Z a-z 0-9 . _ ~ + = @ % : , - (or unset to generate one).";
const CIDR_RULE = "Allowed: an IPv4 network in CIDR form, e.g. 10.0.0.0/16.";
const ADMIN_RULE = 'Allowed: a list of 1 to 16 IPv4 CIDRs, e.g. ["203.0.113.7/32"].';
const RELEASE_RULE =
  "Allowed: a git ref of 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without \"..\".";
const TLS_RULE =
  "Allowed: empty (self-signed at first boot) or a PEM with the certificate chain and the private key of its first certificate.";
const OTHER_PEM = makeTlsPem("another");
const [TLS_CERT, TLS_KEY] = [
  TLS_PEM.slice(0, TLS_PEM.indexOf("-----BEGIN PRIVATE KEY")),
  TLS_PEM.slice(TLS_PEM.indexOf("-----BEGIN PRIVATE KEY")),
];
const OTHER_KEY = OTHER_PEM.slice(OTHER_PEM.indexOf("-----BEGIN PRIVATE KEY"));
const WORLD_RULE = "Allowed: CIDRs of /8 or longer, or set yquant:allowWorldAdminAccess to true.";

/** [case, overrides, keys removed, exact message] */
const BAD_INPUT: [string, Record<string, unknown>, string[], string][] = [
  [
    "unknown color",
    { activeColor: "red" },
    [],
    'yquant:activeColor: "red" is not a color. Allowed: "blue" or "green".',
  ],
  [
    "color in the wrong case",
    { activeColor: "Blue" },
    [],
    'yquant:activeColor: "Blue" is not a color. Allowed: "blue" or "green".',
  ],
  [
    "CIDR prefix over 32",
    { vcnCidr: "10.0.0.0/33" },
    [],
    `yquant:vcnCidr: "10.0.0.0/33" is not an IPv4 CIDR. ${CIDR_RULE}`,
  ],
  [
    "CIDR octet over 255",
    { vcnCidr: "10.0.0.256/16" },
    [],
    `yquant:vcnCidr: "10.0.0.256/16" is not an IPv4 CIDR. ${CIDR_RULE}`,
  ],
  [
    "CIDR without prefix",
    { engineSubnetCidr: "10.0.2.0" },
    [],
    `yquant:engineSubnetCidr: "10.0.2.0" is not an IPv4 CIDR. ${CIDR_RULE}`,
  ],
  [
    "CIDR with host bits",
    { gateSubnetCidr: "10.0.1.5/24" },
    [],
    `yquant:gateSubnetCidr: 10.0.1.5/24 has host bits set (the network is 10.0.1.0/24). ${CIDR_RULE}`,
  ],
  [
    "VCN prefix too short",
    { vcnCidr: "10.0.0.0/8" },
    [],
    "yquant:vcnCidr: 10.0.0.0/8 has prefix /8. Allowed: a prefix from /16 to /28.",
  ],
  [
    "subnet outside the VCN",
    { gateSubnetCidr: "10.1.1.0/24" },
    [],
    "yquant:gateSubnetCidr: 10.1.1.0/24 is not inside yquant:vcnCidr 10.0.0.0/16. Allowed: a subnet of 10.0.0.0/16 with a prefix from /16 to /28.",
  ],
  [
    "subnet too small for the pinned hosts",
    { engineSubnetCidr: "10.0.2.0/29" },
    [],
    "yquant:engineSubnetCidr: 10.0.2.0/29 is too small for the pinned hosts .10 and .11. Allowed: a subnet of 10.0.0.0/16 with a prefix from /16 to /28.",
  ],
  [
    "overlapping subnets",
    { engineSubnetCidr: "10.0.1.128/25" },
    [],
    "yquant:engineSubnetCidr: 10.0.1.128/25 overlaps yquant:gateSubnetCidr 10.0.1.0/24. Allowed: a subnet of 10.0.0.0/16 that does not overlap 10.0.1.0/24.",
  ],
  [
    "identical subnets",
    { engineSubnetCidr: "10.0.1.0/24" },
    [],
    "yquant:engineSubnetCidr: 10.0.1.0/24 overlaps yquant:gateSubnetCidr 10.0.1.0/24. Allowed: a subnet of 10.0.0.0/16 that does not overlap 10.0.1.0/24.",
  ],
  [
    "adminCidrs 0.0.0.0/0 without opt-in",
    { adminCidrs: [ADMIN_CIDR, "0.0.0.0/0"] },
    [],
    `yquant:adminCidrs: 0.0.0.0/0 opens SSH, staging and stats to the whole internet. ${WORLD_RULE}`,
  ],
  [
    "adminCidrs ::/0 without opt-in",
    { adminCidrs: ["::/0"] },
    [],
    `yquant:adminCidrs: ::/0 opens SSH, staging and stats to the whole internet. ${WORLD_RULE}`,
  ],
  [
    "adminCidrs half the internet",
    { adminCidrs: ["0.0.0.0/1"] },
    [],
    `yquant:adminCidrs: 0.0.0.0/1 opens SSH, staging and stats to the whole internet. ${WORLD_RULE}`,
  ],
  [
    "adminCidrs empty",
    { adminCidrs: [] },
    [],
    `yquant:adminCidrs: [] is not a non-empty list. ${ADMIN_RULE}`,
  ],
  [
    "adminCidrs missing",
    {},
    ["adminCidrs"],
    `yquant:adminCidrs: a value is required but none is set. ${ADMIN_RULE}`,
  ],
  [
    "adminCidrs bad CIDR",
    { adminCidrs: ["203.0.113.0/33"] },
    [],
    `yquant:adminCidrs: "203.0.113.0/33" is not an IPv4 CIDR. ${ADMIN_RULE}`,
  ],
  [
    "adminCidrs listed twice",
    { adminCidrs: [ADMIN_CIDR, ADMIN_CIDR] },
    [],
    `yquant:adminCidrs: ${ADMIN_CIDR} is listed twice. ${ADMIN_RULE}`,
  ],
  [
    "OCPUs above the range",
    { engineOcpus: 5 },
    [],
    "yquant:engineOcpus: 5 is out of range for VM.Standard.A1.Flex. Allowed: an integer from 1 to 4.",
  ],
  [
    "OCPUs below the range",
    { engineOcpus: 0 },
    [],
    "yquant:engineOcpus: 0 is out of range for VM.Standard.A1.Flex. Allowed: an integer from 1 to 4.",
  ],
  [
    "fractional OCPUs",
    { engineOcpus: 2.5 },
    [],
    "yquant:engineOcpus: 2.5 is not an integer. Allowed: an integer from 1 to 4.",
  ],
  [
    "memory above the range",
    { engineMemoryGbs: 25 },
    [],
    "yquant:engineMemoryGbs: 25 is out of range for VM.Standard.A1.Flex with 2 OCPUs. Allowed: an integer from 2 to 24.",
  ],
  [
    "memory below 1 GB per OCPU",
    { engineOcpus: 4, engineMemoryGbs: 3 },
    [],
    "yquant:engineMemoryGbs: 3 is out of range for VM.Standard.A1.Flex with 4 OCPUs. Allowed: an integer from 4 to 24.",
  ],
  [
    "unsupported engine shape",
    { engineShape: "VM.Standard.E4.Flex" },
    [],
    'yquant:engineShape: "VM.Standard.E4.Flex" is not a supported engine shape. Allowed: "VM.Standard.A1.Flex".',
  ],
  [
    "flexible gate shape",
    { gateShape: "VM.Standard.A1.Flex" },
    [],
    'yquant:gateShape: "VM.Standard.A1.Flex" is not a known fixed shape. Allowed: "VM.Standard.E2.1.Micro", "VM.Standard.E2.1", "VM.Standard.E2.2", "VM.Standard.E2.4" or "VM.Standard.E2.8".',
  ],
  [
    "missing compartment",
    {},
    ["compartmentId"],
    "yquant:compartmentId: a value is required but none is set. Allowed: a compartment or tenancy OCID (ocid1.compartment.… or ocid1.tenancy.…).",
  ],
  [
    "empty compartment",
    { compartmentId: "" },
    [],
    "yquant:compartmentId: a value is required but none is set. Allowed: a compartment or tenancy OCID (ocid1.compartment.… or ocid1.tenancy.…).",
  ],
  [
    "compartment that is not a compartment OCID",
    { compartmentId: "ocid1.instance.oc1..abc" },
    [],
    'yquant:compartmentId: "ocid1.instance.oc1..abc" is not valid. Allowed: a compartment or tenancy OCID (ocid1.compartment.… or ocid1.tenancy.…).',
  ],
  [
    "short Valkey password",
    { valkeyPassword: "short-pass" },
    [],
    `yquant:valkeyPassword: the value has 10 characters. ${PASSWORD_RULE}`,
  ],
  [
    "Sentinel password with a space",
    { sentinelPassword: "long enough but has spaces" },
    [],
    `yquant:sentinelPassword: the value has characters outside the allowed set. ${PASSWORD_RULE}`,
  ],
  [
    "release ref starting with a dash",
    { releases: { blue: "-rf" } },
    [],
    `yquant:releases.blue: "-rf" is not a release ref. ${RELEASE_RULE}`,
  ],
  [
    "release ref with a shell character",
    { releases: { green: "v1;reboot" } },
    [],
    `yquant:releases.green: "v1;reboot" is not a release ref. ${RELEASE_RULE}`,
  ],
  [
    "release ref of 101 characters",
    { releases: { green: "a".repeat(101) } },
    [],
    `yquant:releases.green: "${"a".repeat(101)}" is not a release ref. ${RELEASE_RULE}`,
  ],
  [
    "release for an unknown color",
    { releases: { purple: "v1" } },
    [],
    "yquant:releases.purple: is not a color. Allowed: the keys blue and green.",
  ],
  [
    "negative rebuild counter",
    { rebuild: { green: -1 } },
    [],
    "yquant:rebuild.green: -1 is not a rebuild counter. Allowed: a non-negative integer.",
  ],
  [
    "negative gate rebuild counter",
    { rebuild: { gate: -1 } },
    [],
    "yquant:rebuild.gate: -1 is not a rebuild counter. Allowed: a non-negative integer.",
  ],
  [
    "rebuild key that is neither a color nor the gate",
    { rebuild: { witness: 1 } },
    [],
    "yquant:rebuild.witness: is not a color nor the gate. Allowed: the keys blue, green and gate.",
  ],
  [
    "fractional rebuild counter",
    { rebuild: { blue: 1.5 } },
    [],
    "yquant:rebuild.blue: 1.5 is not a rebuild counter. Allowed: a non-negative integer.",
  ],
  [
    "drainSeconds above the range",
    { drainSeconds: 3601 },
    [],
    "yquant:drainSeconds: 3601 is out of range. Allowed: an integer from 0 to 3600.",
  ],
  [
    "drainSeconds below the range",
    { drainSeconds: -1 },
    [],
    "yquant:drainSeconds: -1 is out of range. Allowed: an integer from 0 to 3600.",
  ],
  [
    "boot volume below 50 GB",
    { bootVolumeSizeGbs: 40 },
    [],
    "yquant:bootVolumeSizeGbs: 40 is out of range. Allowed: an integer from 50 to 200.",
  ],
  [
    "boot volume above 200 GB",
    { bootVolumeSizeGbs: 201 },
    [],
    "yquant:bootVolumeSizeGbs: 201 is out of range. Allowed: an integer from 50 to 200.",
  ],
  [
    "availability domain index out of range",
    { availabilityDomainIndex: 3 },
    [],
    "yquant:availabilityDomainIndex: 3 is out of range. Allowed: an integer from 0 to 2.",
  ],
  [
    "boolean that is not one",
    { natGateway: "yes" },
    [],
    'yquant:natGateway: "yes" is not a boolean. Allowed: true or false.',
  ],
  [
    "missing SSH private key",
    {},
    ["sshPrivateKey"],
    "yquant:sshPrivateKey: a value is required but none is set. Allowed: a PEM or OpenSSH private key, set with `pulumi config set --secret sshPrivateKey < key`.",
  ],
  [
    "SSH public key that is not one",
    { sshPublicKey: "not a key" },
    [],
    'yquant:sshPublicKey: "not a key" is not valid. Allowed: an OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa-sha2-…).',
  ],
  [
    "image that is not an image OCID",
    { gateImageId: "ami-0123" },
    [],
    'yquant:gateImageId: "ami-0123" is not valid. Allowed: empty (look up Canonical Ubuntu 24.04) or an image OCID (ocid1.image.…).',
  ],
  [
    "release ref with a git range (..)",
    { releases: { green: "v1..2" } },
    [],
    `yquant:releases.green: "v1..2" is not a release ref. ${RELEASE_RULE}`,
  ],
  [
    "integer in hex",
    { drainSeconds: "0x10" },
    [],
    'yquant:drainSeconds: "0x10" is not an integer. Allowed: an integer from 0 to 3600.',
  ],
  [
    "integer with a unit",
    { drainSeconds: "30s" },
    [],
    'yquant:drainSeconds: "30s" is not an integer. Allowed: an integer from 0 to 3600.',
  ],
  [
    "integer with trailing letters",
    { engineOcpus: "2abc" },
    [],
    'yquant:engineOcpus: "2abc" is not an integer. Allowed: an integer from 1 to 4.',
  ],
  [
    "integer with a leading zero",
    { availabilityDomainIndex: "01" },
    [],
    'yquant:availabilityDomainIndex: "01" is not an integer. Allowed: an integer from 0 to 2.',
  ],
  [
    "integer in exponent form",
    { bootVolumeSizeGbs: "1e2" },
    [],
    'yquant:bootVolumeSizeGbs: "1e2" is not an integer. Allowed: an integer from 50 to 200.',
  ],
  [
    "empty integer",
    { drainSeconds: "" },
    [],
    'yquant:drainSeconds: "" is not an integer. Allowed: an integer from 0 to 3600.',
  ],
  [
    "boolean as a number",
    { natGateway: "1" },
    [],
    'yquant:natGateway: "1" is not a boolean. Allowed: true or false.',
  ],
  [
    "boolean in capitals",
    { acknowledgeCharges: "True" },
    [],
    'yquant:acknowledgeCharges: "True" is not a boolean. Allowed: true or false.',
  ],
  [
    "rebuild counter with a unit",
    { rebuild: { blue: "2x" } },
    [],
    'yquant:rebuild.blue: "2x" is not a rebuild counter. Allowed: a non-negative integer.',
  ],
  [
    "too many admin CIDRs",
    { adminCidrs: Array.from({ length: 17 }, (_, i) => `198.51.100.${i}/32`) },
    [],
    `yquant:adminCidrs: the list has 17 CIDRs, more than 16. ${ADMIN_RULE}`,
  ],
  [
    "SSH public keys over 4096 characters (OCI's metadata limit is shared with user_data)",
    {
      sshPublicKey: Array.from({ length: 6 }, (_, i) => `ssh-rsa ${"A".repeat(716)} key${i}@ops`).join("\n"),
    },
    [],
    "yquant:sshPublicKey: the value has 4403 characters, more than 4096. Allowed: an OpenSSH public key line (ssh-ed25519, ssh-rsa or ecdsa-sha2-…).",
  ],
  [
    "Valkey password over 128 characters",
    { valkeyPassword: "a".repeat(129) },
    [],
    `yquant:valkeyPassword: the value has 129 characters, more than 128. ${PASSWORD_RULE}`,
  ],
  [
    "TLS PEM over 5300 characters",
    { tlsPem: TLS_PEM + "x".repeat(5300) },
    [],
    `yquant:tlsPem: the value has ${TLS_PEM.length + 5300} characters, more than 5300. ${TLS_RULE}`,
  ],
  [
    "alert webhook that is not an http(s) URL",
    { alertWebhookUrl: "ftp://chat.example/hook" },
    [],
    "yquant:alertWebhookUrl: the value is not an http:// or https:// URL. Allowed: empty (alerts are not delivered) or an http:// or https:// URL without spaces or quotes.",
  ],
  [
    "TLS PEM without a key",
    { tlsPem: TLS_CERT },
    [],
    `yquant:tlsPem: the value does not hold both a certificate and a private key. ${TLS_RULE}`,
  ],
  [
    "TLS PEM whose certificate does not parse",
    { tlsPem: "-----BEGIN CERTIFICATE-----\nTESTCERTIFICATEBODY\n-----END CERTIFICATE-----\n" + TLS_KEY },
    [],
    `yquant:tlsPem: certificate 1 of 1 does not parse. ${TLS_RULE}`,
  ],
  [
    "TLS PEM whose key does not parse",
    { tlsPem: TLS_CERT + "-----BEGIN PRIVATE KEY-----\nTESTPRIVATEKEYBODY\n-----END PRIVATE KEY-----\n" },
    [],
    `yquant:tlsPem: the private key does not parse (an encrypted key is not accepted). ${TLS_RULE}`,
  ],
  [
    "TLS PEM whose key belongs to another certificate",
    { tlsPem: TLS_CERT + OTHER_KEY },
    [],
    `yquant:tlsPem: the private key does not match the first certificate. ${TLS_RULE}`,
  ],
  [
    "CIDR prefix with a leading zero",
    { vcnCidr: "10.0.0.0/016" },
    [],
    `yquant:vcnCidr: "10.0.0.0/016" is not an IPv4 CIDR. ${CIDR_RULE}`,
  ],
  [
    "engine image that is not an image OCID",
    { engineImageId: "ami-4567" },
    [],
    'yquant:engineImageId: "ami-4567" is not valid. Allowed: empty (look up Canonical Ubuntu 24.04) or an image OCID (ocid1.image.…).',
  ],
  [
    "app repository that is not a git URL",
    { appRepository: "ftp://example.com/app.git" },
    [],
    'yquant:appRepository: "ftp://example.com/app.git" is not valid. Allowed: empty (the placeholder app) or a git URL (https://, ssh:// or git@).',
  ],
  [
    "build command of two lines",
    { appBuildCommand: "make\nmake install" },
    [],
    "yquant:appBuildCommand: the value has a line break. Allowed: one line of shell, or empty.",
  ],
  ...(
    [
      "allowWorldAdminAccess",
      "messageMasterFollowsActive",
      "allowDeployToActive",
      "acceptGateOutage",
    ] as const
  ).map((key): [string, Record<string, unknown>, string[], string] => [
    `${key} that is not a boolean`,
    { [key]: "on" },
    [],
    `yquant:${key}: "on" is not a boolean. Allowed: true or false.`,
  ]),
  [
    "misspelt key",
    { activecolor: "green" },
    [],
    `yquant:activecolor: is not a known setting. Allowed: one of ${CONFIG_KEYS.join(", ")}.`,
  ],
];

describe("parseConfig refuses bad input with a message naming the field and the allowed values", () => {
  it.each(BAD_INPUT)("%s", (_name, overrides, remove, message) => {
    expect(refusal(overrides, remove)).toBe(message);
  });

  it("refuses something of every key, and every message names its field and what is allowed", () => {
    const refused = new Set(BAD_INPUT.map(([, , , message]) => /^yquant:([A-Za-z]+)/.exec(message)?.[1]));
    expect(CONFIG_KEYS.filter((key) => !refused.has(key))).toEqual([]);
    for (const [, , , message] of BAD_INPUT)
      expect(message).toMatch(/^yquant:[A-Za-z.]+: .*\. Allowed: .+\.$/);
  });

  it("accepts a TLS PEM whose key matches its first certificate, with a chain after it", () => {
    const chain = TLS_CERT + OTHER_PEM.slice(0, OTHER_PEM.indexOf("-----BEGIN PRIVATE KEY")) + TLS_KEY;
    expect(parseConfig(validRaw({ tlsPem: chain })).tlsPem.reveal()).toBe(chain);
  });

  it("never prints a refused password", () => {
    expect(refusal({ valkeyPassword: "hunter2-secret" })).not.toContain("hunter2");
  });
});

describe("parseConfig accepts good input", () => {
  it("fills every default and derives the pinned addresses", () => {
    const config = parseConfig(validRaw());
    const { sshPrivateKey, tlsPem, alertWebhookUrl, costEstimate, ...plain } = config;
    expect(sshPrivateKey.reveal()).toBe(SSH_PRIVATE_KEY);
    expect(tlsPem.reveal()).toBe("");
    expect(alertWebhookUrl.reveal()).toBe("");
    expect([costEstimate.monthlyUsd, costEstimate.withinFreeTier, costEstimate.overages]).toEqual([
      26.98,
      false,
      ["A1 OCPU-hours 2,920/month exceed the free 1,500", "A1 GB-hours 17,520/month exceed the free 9,000"],
    ]);
    expect(plain).toEqual({
      compartmentId: COMPARTMENT,
      sshPublicKey: SSH_PUBLIC_KEY,
      adminCidrs: [ADMIN_CIDR],
      allowWorldAdminAccess: false,
      activeColor: "blue",
      standbyColor: "green",
      availabilityDomainIndex: 0,
      vcnCidr: "10.0.0.0/16",
      gateSubnetCidr: "10.0.1.0/24",
      engineSubnetCidr: "10.0.2.0/24",
      privateIps: { gate: "10.0.1.10", blue: "10.0.2.10", green: "10.0.2.11" },
      natGateway: true,
      gateShape: "VM.Standard.E2.1.Micro",
      gateOcpus: 1,
      gateMemoryGbs: 1,
      engineShape: "VM.Standard.A1.Flex",
      engineOcpus: 2,
      engineMemoryGbs: 12,
      bootVolumeSizeGbs: 50,
      gateImageId: "",
      engineImageId: "",
      acknowledgeCharges: true,
      valkeyPassword: undefined,
      sentinelPassword: undefined,
      drainSeconds: 30,
      messageMasterFollowsActive: true,
      appRepository: "",
      appBuildCommand: "",
      releases: { blue: "placeholder", green: "placeholder" },
      allowDeployToActive: false,
      rebuild: { blue: 0, green: 0 },
      gateRebuild: 0,
      acceptGateOutage: false,
    });
  });

  it("returns a deeply frozen object whose secrets print as [secret]", () => {
    const config = parseConfig(validRaw({ valkeyPassword: VALKEY_PASSWORD }));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.privateIps)).toBe(true);
    expect(Object.isFrozen(config.adminCidrs)).toBe(true);
    expect(config.valkeyPassword).toBeInstanceOf(SecretString);
    const printed = JSON.stringify(config) + String(config.valkeyPassword);
    expect(printed).not.toContain(VALKEY_PASSWORD);
    expect(printed).not.toContain(SSH_PRIVATE_KEY.split("\n")[1]);
    expect(printed).toContain('"valkeyPassword":"[secret]"');
  });

  it("takes values as Pulumi passes them (strings) and derives addresses from custom subnets", () => {
    const config = parseConfig(
      validRaw({
        activeColor: "green",
        vcnCidr: "172.16.0.0/20",
        gateSubnetCidr: "172.16.0.0/28",
        engineSubnetCidr: "172.16.1.0/24",
        natGateway: "false",
        engineOcpus: "4",
        engineMemoryGbs: "24",
        drainSeconds: "0",
        bootVolumeSizeGbs: "200",
        releases: { green: "release/2026.11.26" },
        rebuild: { blue: "3" },
      }),
    );
    expect(config.activeColor).toBe("green");
    expect(config.standbyColor).toBe("blue");
    expect(config.privateIps).toEqual({ gate: "172.16.0.10", blue: "172.16.1.10", green: "172.16.1.11" });
    expect(config.natGateway).toBe(false);
    expect([
      config.engineOcpus,
      config.engineMemoryGbs,
      config.drainSeconds,
      config.bootVolumeSizeGbs,
    ]).toEqual([4, 24, 0, 200]);
    expect(config.releases).toEqual({ blue: "placeholder", green: "release/2026.11.26" });
    expect(config.rebuild).toEqual({ blue: 3, green: 0 });
  });

  it("accepts 0.0.0.0/0 for adminCidrs with the explicit opt-in", () => {
    expect(
      parseConfig(validRaw({ adminCidrs: ["0.0.0.0/0"], allowWorldAdminAccess: true })).adminCidrs,
    ).toEqual(["0.0.0.0/0"]);
  });
});

describe("CIDR arithmetic", () => {
  const cidr = (text: string) => {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") throw new Error(parsed);
    return parsed;
  };
  it("contains and overlaps", () => {
    expect(cidrContains(cidr("10.0.0.0/16"), cidr("10.0.255.240/28"))).toBe(true);
    expect(cidrContains(cidr("10.0.0.0/16"), cidr("10.1.0.0/28"))).toBe(false);
    expect(cidrContains(cidr("10.0.1.0/24"), cidr("10.0.0.0/16"))).toBe(false);
    expect(cidrsOverlap(cidr("10.0.1.0/24"), cidr("10.0.1.128/25"))).toBe(true);
    expect(cidrsOverlap(cidr("10.0.1.0/24"), cidr("10.0.2.0/24"))).toBe(false);
    expect(cidrsOverlap(cidr("255.255.255.0/24"), cidr("0.0.0.0/0"))).toBe(true);
  });
  it("rejects leading zeros and partial addresses", () => {
    expect(parseCidr("10.0.01.0/24")).toBe('"10.0.01.0/24" is not an IPv4 CIDR');
    expect(parseCidr("10.0.0/24")).toBe('"10.0.0/24" is not an IPv4 CIDR');
  });
});

function prodStackConfig(): Record<string, unknown> {
  const file = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  return file.config;
}

describe("Pulumi.prod.yaml", () => {
  it("is a complete example stack that passes validation (with the secret private key supplied separately)", () => {
    const stack = prodStackConfig();
    expect(Object.keys(stack).every((key) => key.startsWith("yquant:"))).toBe(true);
    expect(JSON.stringify(stack)).not.toContain("secure");
    expect(stack["yquant:activeColor"]).toBe("blue");
    const raw = Object.fromEntries(
      Object.entries(stack).map(([key, value]) => [key.slice("yquant:".length), value]),
    );
    const config = parseConfig({ ...raw, sshPrivateKey: SSH_PRIVATE_KEY });
    expect(config.activeColor).toBe("blue");
    expect(config.compartmentId).toBe("ocid1.compartment.oc1..example");
    expect([config.engineShape, config.engineOcpus, config.engineMemoryGbs]).toEqual([
      "VM.Standard.A1.Flex",
      2,
      12,
    ]);
  });

  it("passes loadConfig as the Pulumi CLI would hand it to the program", () => {
    const values: Record<string, string> = { "yquant:sshPrivateKey": SSH_PRIVATE_KEY };
    for (const [key, value] of Object.entries(prodStackConfig())) {
      values[key] = typeof value === "object" ? JSON.stringify(value) : String(value);
    }
    pulumi.runtime.setAllConfig(values, ["yquant:sshPrivateKey"]);
    const config = loadConfig();
    expect(config.adminCidrs).toEqual(["203.0.113.7/32"]);
    expect(config.releases).toEqual({ blue: "placeholder", green: "placeholder" });
  });

  it("loadConfig refuses an unknown yquant key", () => {
    pulumi.runtime.setAllConfig({
      "yquant:compartmentId": COMPARTMENT,
      "yquant:activColor": "green",
    });
    expect(() => loadConfig()).toThrow(
      /^yquant:activColor: is not a known setting\. Allowed: one of compartmentId, /,
    );
  });
});

describe("Pulumi.yaml", () => {
  const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: unknown;
    config: Record<string, { type: string; default?: unknown; secret?: boolean; description?: string }>;
  };

  it("names the project yquant with the TypeScript nodejs runtime", () => {
    expect(project.name).toBe("yquant");
    expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: true } });
  });

  it("declares exactly the schema's keys but the {blue, green} objects, with its types, defaults and descriptions", () => {
    const declared = Object.fromEntries(
      Object.entries(CONFIG_SCHEMA)
        .filter(([, spec]) => spec.kind !== "object")
        .map(([key, spec]): [string, Record<string, unknown>] => {
          const d =
            "default" in spec ? spec.default : spec.kind === "secret" && "generated" in spec ? "" : undefined;
          return [
            key,
            {
              type: {
                string: "string",
                secret: "string",
                boolean: "boolean",
                integer: "integer",
                list: "array",
                object: "object",
              }[spec.kind],
              ...(spec.kind === "list" ? { items: { type: "string" } } : {}),
              ...(spec.secret && d === undefined ? { secret: true } : {}),
              ...(d === undefined ? {} : { default: d }),
              description: spec.description,
            },
          ];
        }),
    );
    expect(project.config).toEqual(declared);
  });
});
