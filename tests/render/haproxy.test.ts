import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COLORS } from "../../cloud-init/layout";
import { renderHaproxyVariant } from "../../cloud-init/user-data";
import { cloudLayout, localLayout, materialise, run, tempDir, writeSelfSignedPem } from "./helpers";

const cloud = cloudLayout();
const lines = (text: string): string[] => text.split("\n").map((l) => l.trim());

describe("renderHaproxyVariant", () => {
  it("keeps the document's backend lines, with the standby as backup", () => {
    const blue = lines(renderHaproxyVariant(cloud, "blue"));
    expect(blue).toEqual(
      expect.arrayContaining([
        "backend yquant_backend",
        "balance roundrobin",
        "cookie SERVERID insert indirect nocache",
        "server blue 10.0.2.10:5000 check cookie blue",
        "server green 10.0.2.11:5000 check backup cookie green",
        "option httpchk GET /health",
        "http-check expect status 200",
      ]),
    );
    const green = lines(renderHaproxyVariant(cloud, "green"));
    expect(green).toContain("server blue 10.0.2.10:5000 check backup cookie blue");
    expect(green).toContain("server green 10.0.2.11:5000 check cookie green");
  });

  it("fails fast on a crashed app and retries only what is safe to retry", () => {
    const text = lines(renderHaproxyVariant(cloud, "blue"));
    expect(text).toContain(
      "default-server inter 1s fastinter 250ms downinter 1s rise 2 fall 2 observe layer4 error-limit 1 on-error mark-down",
    );
    expect(text).toContain("retries 3");
    expect(text).toContain("option redispatch 1");
    expect(text).toContain("retry-on conn-failure empty-response response-timeout");
    expect(text).toContain("http-request disable-l7-retry if !{ method GET HEAD OPTIONS }");
  });

  it("binds live 80/443, staging for admins only, stats on the gate's addresses, and the admin socket", () => {
    const text = lines(renderHaproxyVariant(cloud, "blue"));
    expect(text).toContain("bind *:80");
    expect(text).toContain("bind *:443 ssl crt /etc/haproxy/certs/yquant.pem");
    expect(text).toContain("bind *:8080");
    expect(text).toContain("acl yq_admin src 203.0.113.0/24 127.0.0.0/8");
    expect(text).toContain("http-request deny unless yq_admin");
    expect(text).toContain("bind 10.0.1.10:8404");
    expect(text).toContain("bind 127.0.0.1:8404");
    expect(text).toContain("stats uri /stats");
    expect(text).toContain("http-request use-service prometheus-exporter if { path /metrics }");
    expect(text).toContain("stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners");
    expect(text).toContain("pidfile /run/haproxy.pid");
    expect(text).toContain("server-state-file /var/lib/haproxy/server-state");
    expect(text).toContain("load-server-state-from-file global");
    expect(text).toContain("chroot /var/lib/haproxy");
    expect(text).toContain("user haproxy");
    expect(text).toContain("group haproxy");
  });

  it("staging reaches only the standby, and the drain ACL reads draining.lst", () => {
    for (const color of COLORS) {
      const standby = color === "blue" ? "green" : "blue";
      const text = renderHaproxyVariant(cloud, color);
      const staging = text.slice(
        text.indexOf("backend yquant_staging"),
        text.indexOf("frontend yquant_stats"),
      );
      expect(staging.match(/^\s+server /gm)).toHaveLength(1);
      expect(staging).toContain(`server ${standby} `);
      expect(lines(text)).toContain(
        "acl yq_draining req.cook(SERVERID) -m str -f /etc/haproxy/yquant/draining.lst",
      );
      expect(lines(text)).toContain(
        `ignore-persist if { req.cook(SERVERID) -m str ${standby} } !yq_draining`,
      );
    }
  });

  it("the two variants differ only in backup, staging target, ignore-persist (and the header comment)", () => {
    const blue = renderHaproxyVariant(cloud, "blue").split("\n");
    const green = renderHaproxyVariant(cloud, "green").split("\n");
    expect(green).toHaveLength(blue.length);
    const differing = blue
      .map((line, i) => [line.trim(), green[i]?.trim() ?? ""] as const)
      .filter(([a, b]) => a !== b);
    expect(differing).toEqual([
      [
        "# Rendered by yquant-infra (cloud-init/haproxy.ts). Variant: active blue, standby green.",
        "# Rendered by yquant-infra (cloud-init/haproxy.ts). Variant: active green, standby blue.",
      ],
      [
        "ignore-persist if { req.cook(SERVERID) -m str green } !yq_draining",
        "ignore-persist if { req.cook(SERVERID) -m str blue } !yq_draining",
      ],
      ["server blue 10.0.2.10:5000 check cookie blue", "server blue 10.0.2.10:5000 check backup cookie blue"],
      [
        "server green 10.0.2.11:5000 check backup cookie green",
        "server green 10.0.2.11:5000 check cookie green",
      ],
      ["server green 10.0.2.11:5000 check", "server blue 10.0.2.10:5000 check"],
    ]);
  });

  it("roots every path and drops chroot/user outside production (the lab)", () => {
    const local = localLayout("/srv/lab", 0);
    const text = renderHaproxyVariant(local, "green");
    expect(text).toContain(
      "stats socket /srv/lab/gate/run/haproxy/admin.sock mode 660 level admin expose-fd listeners",
    );
    expect(text).toContain("-f /srv/lab/gate/etc/haproxy/yquant/draining.lst");
    expect(text).toContain("bind 127.0.20.1:18443 ssl crt /srv/lab/gate/etc/haproxy/certs/yquant.pem");
    expect(text).not.toMatch(/^\s*(chroot|user|group) /m);
  });

  it("refuses an unknown color", () => {
    expect(() => renderHaproxyVariant(cloud, "purple" as never)).toThrow(
      'renderHaproxyVariant: color must be one of blue, green, got "purple"',
    );
  });
});

describe("haproxy -c (real HAProxy)", () => {
  const dir = tempDir("haproxy");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const production of [false, true]) {
    it.each(COLORS)(`accepts the active-%s variant (production: ${production})`, (color) => {
      const root = path.join(dir, String(production));
      const layout = localLayout(root, 0, { production });
      materialise(layout, "gate");
      writeSelfSignedPem(path.join(root, "gate/etc/haproxy/certs/yquant.pem"));
      fs.mkdirSync(path.join(root, "gate/var/lib/haproxy"), { recursive: true });
      fs.writeFileSync(path.join(root, "gate/var/lib/haproxy/server-state"), "1\n");
      const file = path.join(root, `gate/etc/haproxy/yquant/haproxy-active-${color}.cfg`);
      const result = run("haproxy", ["-c", "-f", file]);
      const output = `${result.stdout}${result.stderr}`;
      console.log(
        `haproxy -c -f haproxy-active-${color}.cfg (production: ${production}): exit ${result.status}\n${output.trim()}`,
      );
      expect(result.status, output).toBe(0);
      expect(output).toContain("Configuration file is valid");
      expect(output).not.toContain("[WARNING]");
      expect(output).not.toContain("[ALERT]");
    });
  }
});
