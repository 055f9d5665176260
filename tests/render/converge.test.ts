/** The converge bundle (cloud-init/converge.ts): which files, which action, the exact format. */
import { describe, expect, it } from "vitest";
import {
  AUTHORIZED_KEYS_PATH,
  convergeDigest,
  convergeEntries,
  renderConvergeBundle,
} from "../../cloud-init/converge";
import { renderNodeFiles } from "../../cloud-init/node-files";
import { cloudLayout } from "./helpers";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTONLY test@example";

describe("convergeEntries", () => {
  it("carries every rendered file of the gate but the first-boot hold, each with its action", () => {
    const layout = cloudLayout();
    const entries = convergeEntries(layout, "gate", KEY);
    const rendered = renderNodeFiles(layout, "gate").map((f) => f.path);
    expect(rendered.filter((p) => !entries.some((e) => e.path === p))).toEqual(["/usr/sbin/policy-rc.d"]);
    expect(entries.map((e) => `${e.action} ${e.path}`).filter((l) => !l.startsWith("write "))).toEqual([
      "firewall /etc/yquant/firewall.rules",
      "unit /etc/systemd/system/yquant-node-metrics.service",
      "unit /etc/systemd/system/valkey-server.service.d/yquant-umask.conf",
      "valkey /etc/valkey/valkey.conf",
      "unit /etc/systemd/system/valkey-server@replica.service.d/yquant-umask.conf",
      "replica /etc/valkey/valkey-replica.conf",
      "unit /etc/systemd/system/valkey-sentinel.service.d/yquant-umask.conf",
      "unit /etc/systemd/system/valkey-sentinel.service.d/yquant-scripts.conf",
      "sentinel /etc/valkey/sentinel.conf",
      "haproxy /etc/haproxy/haproxy.cfg",
      `ssh-keys ${AUTHORIZED_KEYS_PATH}`,
    ]);
    const keys = entries.find((e) => e.action === "ssh-keys");
    expect(keys).toEqual({
      path: AUTHORIZED_KEYS_PATH,
      content: `${KEY}\n`,
      permissions: "0600",
      owner: "ubuntu:ubuntu",
      action: "ssh-keys",
    });
  });

  it("gives an engine's app units the unit action", () => {
    const entries = convergeEntries(cloudLayout(), "green");
    expect(entries.filter((e) => e.action === "unit").map((e) => e.path)).toEqual(
      renderNodeFiles(cloudLayout(), "green")
        .map((f) => f.path)
        .filter((p) => p.startsWith("/etc/systemd/system/")),
    );
    expect(entries.some((e) => e.action === "haproxy" || e.action === "ssh-keys")).toBe(false);
  });

  it("refuses an empty key list", () => {
    expect(() => convergeEntries(cloudLayout(), "blue", "  \n")).toThrow(
      "convergeEntries: sshAuthorizedKeys must be one or more OpenSSH public key lines",
    );
  });
});

describe("renderConvergeBundle", () => {
  it("writes the header, one file line and one base64 line per entry, and end", () => {
    const text = renderConvergeBundle([
      { path: "/etc/a", content: "x\n", permissions: "0644", owner: "root:root", action: "write" },
    ]);
    expect(text).toBe("yquant-converge 1\nfile write 0644 root:root /etc/a\neAo=\nend\n");
  });

  it("is stable, and its digest changes exactly when a file does", () => {
    const a = renderConvergeBundle(convergeEntries(cloudLayout(), "gate", KEY));
    expect(renderConvergeBundle(convergeEntries(cloudLayout(), "gate", KEY))).toBe(a);
    const moved = renderConvergeBundle(
      convergeEntries({ ...cloudLayout(), adminCidrs: ["192.0.2.0/24"] }, "gate", KEY),
    );
    expect(convergeDigest(moved)).not.toBe(convergeDigest(a));
    expect(convergeDigest(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
