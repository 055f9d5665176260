/** No secret leaves a file that only root, valkey or yquant can read. */
import { describe, expect, it } from "vitest";
import { NODE_NAMES } from "../../cloud-init/layout";
import { renderUserData } from "../../cloud-init/user-data";
import { renderNodeFiles } from "../../cloud-init/node-files";
import { parseWriteFiles } from "../../cloud-init/write-files";
import { sampleUserPasswords } from "../../tools/sample-layout";
import { cloudLayout } from "./helpers";

const secrets = {
  valkeyPassword: "S3cret-valkey-Pw-0123456789",
  sentinelPassword: "S3cret-sentinel-Pw-0123456789",
  tlsPem: "-----BEGIN PRIVATE KEY-----\nS3cret-pem-body\n-----END PRIVATE KEY-----\n",
  users: sampleUserPasswords("S3cret"),
};
const layout = cloudLayout({ secrets });
const secretValues = [
  secrets.valkeyPassword,
  secrets.sentinelPassword,
  "S3cret-pem-body",
  ...Object.values(secrets.users),
];
const ALLOWED_OWNERS = new Set(["root", "valkey", "yquant", "prometheus"]);

describe("secrets in rendered files", () => {
  it.each(NODE_NAMES)(
    "%s: secrets only in files of mode 0600/0640 owned by root/valkey/yquant/prometheus",
    (node) => {
      const holders: string[] = [];
      for (const file of renderNodeFiles(layout, node)) {
        if (!secretValues.some((secret) => file.content.includes(secret))) continue;
        holders.push(file.path);
        expect(["0600", "0640"], file.path).toContain(file.permissions);
        const [user, group] = file.owner.split(":");
        expect(ALLOWED_OWNERS.has(user ?? ""), file.path).toBe(true);
        expect(ALLOWED_OWNERS.has(group ?? ""), file.path).toBe(true);
      }
      const expected = [
        "/etc/yquant/valkey.env",
        "/etc/yquant/valkey-admin.env",
        "/etc/valkey/valkey.conf",
        "/etc/valkey/sentinel.conf",
      ];
      // The gate's message replica holds the message store's admin, sentinel and monitor passwords.
      if (node === "gate") expected.push("/etc/haproxy/certs/yquant.pem", "/etc/valkey/valkey-replica.conf");
      // The engines' redis_exporter reads every store's password (root:prometheus 0640).
      else expected.push("/etc/yquant/redis-exporter.json");
      expect(holders.sort()).toEqual(expected.sort());
    },
  );

  it.each(NODE_NAMES)("%s: scripts, units, env and HAProxy files hold no secret", (node) => {
    for (const file of renderNodeFiles(layout, node)) {
      if (/\.(sh|py|service|cfg|rules|lst)$|node\.env$/.test(file.path)) {
        for (const secret of secretValues) expect(file.content, file.path).not.toContain(secret);
      }
    }
    // The gz+b64 encoding is not a hiding place either: the files are checked decoded, as
    // parseWriteFiles reads them back from the user data, and the secrets are there (the checks
    // above are not vacuous).
    const decoded = parseWriteFiles(renderUserData(layout, node));
    expect(decoded.some((f) => f.content.includes(secrets.valkeyPassword))).toBe(true);
  });
});
