import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderSwitchMap } from "../../cloud-init/haproxy";
import { renderHaproxyConfig } from "../../cloud-init/user-data";
import { cloudLayout, localLayout, materialise, run, tempDir, writeSelfSignedPem } from "./helpers";

const cloud = cloudLayout();
const lines = (text: string): string[] => text.split("\n").map((l) => l.trim());

/** The lines of one section (header included), trimmed. */
function sectionOf(text: string, header: string): string[] {
  const start = text.indexOf(`\n${header}\n`) + 1;
  expect(start, header).toBeGreaterThan(0);
  const end = text.indexOf("\n\n", start);
  return lines(text.slice(start, end === -1 ? undefined : end));
}

describe("renderHaproxyConfig", () => {
  const text = renderHaproxyConfig(cloud);

  it("routes live traffic by the switch map, one backend per live color with the document's lines", () => {
    expect(sectionOf(text, "frontend yquant_live")).toContain(
      "use_backend yquant_live_%[str(live),map(/etc/haproxy/yquant/switch.map,blue)]",
    );
    expect(sectionOf(text, "frontend yquant_live")).toContain("http-request set-var(txn.yq_now) date");
    expect(sectionOf(text, "backend yquant_live_blue")).toEqual([
      "backend yquant_live_blue",
      "balance roundrobin",
      "cookie SERVERID insert indirect nocache",
      "option httpchk GET /health",
      "http-check expect status 200",
      'http-check expect rstring "\\"status\\"[[:space:]]*:[[:space:]]*\\"ok\\""',
      'http-check expect rstring "\\"color\\"[[:space:]]*:[[:space:]]*\\"blue\\""',
      "http-request disable-l7-retry if !{ method GET HEAD OPTIONS }",
      "http-request set-timeout server 1s if { method GET HEAD OPTIONS }",
      "acl yq_draining str(drain-green),map(/etc/haproxy/yquant/switch.map,0),sub(txn.yq_now) gt 0",
      "ignore-persist if { req.cook(SERVERID) -m str green } !yq_draining",
      "server blue 10.0.2.10:5000 check cookie blue",
      "server green 10.0.2.11:5000 backup cookie green track yquant_live_green/green",
    ]);
    expect(sectionOf(text, "backend yquant_live_green")).toEqual([
      "backend yquant_live_green",
      "balance roundrobin",
      "cookie SERVERID insert indirect nocache",
      "option httpchk GET /health",
      "http-check expect status 200",
      'http-check expect rstring "\\"status\\"[[:space:]]*:[[:space:]]*\\"ok\\""',
      'http-check expect rstring "\\"color\\"[[:space:]]*:[[:space:]]*\\"green\\""',
      "http-request disable-l7-retry if !{ method GET HEAD OPTIONS }",
      "http-request set-timeout server 1s if { method GET HEAD OPTIONS }",
      "acl yq_draining str(drain-blue),map(/etc/haproxy/yquant/switch.map,0),sub(txn.yq_now) gt 0",
      "ignore-persist if { req.cook(SERVERID) -m str blue } !yq_draining",
      "server blue 10.0.2.10:5000 backup cookie blue track yquant_live_blue/blue",
      "server green 10.0.2.11:5000 check cookie green",
    ]);
  });

  it("staging follows the same map to the standby only, tracking its one check", () => {
    expect(sectionOf(text, "frontend yquant_staging")).toContain(
      "use_backend yquant_staging_%[str(live),map(/etc/haproxy/yquant/switch.map,blue)]",
    );
    expect(sectionOf(text, "backend yquant_staging_blue").filter((l) => l.startsWith("server "))).toEqual([
      "server green 10.0.2.11:5000 track yquant_live_green/green",
    ]);
    expect(sectionOf(text, "backend yquant_staging_green").filter((l) => l.startsWith("server "))).toEqual([
      "server blue 10.0.2.10:5000 track yquant_live_blue/blue",
    ]);
  });

  it("fails fast on a crashed or frozen app and retries only what is safe to retry", () => {
    expect(sectionOf(text, "defaults")).toEqual(
      expect.arrayContaining([
        "default-server inter 500ms fastinter 250ms downinter 1s rise 2 fall 2 observe layer4 error-limit 1 on-error mark-down",
        "timeout check 500ms",
        "timeout server 3s",
        "retries 3",
        "option redispatch 1",
        "retry-on conn-failure empty-response response-timeout",
      ]),
    );
  });

  it("the switch map's format", () => {
    expect(renderSwitchMap({ live: "green", drainUntil: { blue: 1796163705, green: 0 } })).toBe(
      "live green\ndrain-blue 1796163705\ndrain-green 0\n",
    );
    expect(() => renderSwitchMap({ live: "red" as never, drainUntil: { blue: 0, green: 0 } })).toThrow(
      'renderSwitchMap: live must be one of blue, green, got "red"',
    );
  });

  it("binds live 80/443, staging for admins only, stats on the gate's addresses, and the admin socket", () => {
    const text = lines(renderHaproxyConfig(cloud));
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
    // The packaged unit passes -p: a pidfile here as well makes HAProxy ALERT at every start.
    expect(text.filter((line) => line.startsWith("pidfile"))).toEqual([]);
    expect(text).toContain("server-state-file /var/lib/haproxy/server-state");
    expect(text).toContain("load-server-state-from-file global");
    expect(text).toContain("chroot /var/lib/haproxy");
    expect(text).toContain("user haproxy");
    expect(text).toContain("group haproxy");
  });

  it("roots every path and drops chroot/user outside production (the lab)", () => {
    const local = localLayout("/srv/lab", 0);
    const text = renderHaproxyConfig(local);
    expect(text).toContain(
      "stats socket /srv/lab/gate/run/haproxy/admin.sock mode 660 level admin expose-fd listeners",
    );
    expect(text).toContain("map(/srv/lab/gate/etc/haproxy/yquant/switch.map,blue)");
    expect(text).toContain("bind 127.0.20.1:18443 ssl crt /srv/lab/gate/etc/haproxy/certs/yquant.pem");
    expect(text).not.toMatch(/^\s*(chroot|user|group) /m);
  });
});

describe("haproxy -c (real HAProxy)", () => {
  const dir = tempDir("haproxy");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const production of [false, true]) {
    it(`accepts haproxy.cfg (production: ${production})`, () => {
      const root = path.join(dir, String(production));
      const layout = localLayout(root, 0, { production });
      materialise(layout, "gate");
      writeSelfSignedPem(path.join(root, "gate/etc/haproxy/certs/yquant.pem"));
      fs.mkdirSync(path.join(root, "gate/var/lib/haproxy"), { recursive: true });
      fs.writeFileSync(path.join(root, "gate/var/lib/haproxy/server-state"), "1\n");
      fs.mkdirSync(path.join(root, "gate/etc/haproxy/yquant"), { recursive: true });
      fs.writeFileSync(
        path.join(root, "gate/etc/haproxy/yquant/switch.map"),
        renderSwitchMap({ live: "blue", drainUntil: { blue: 0, green: 0 } }),
      );
      const file = path.join(root, "gate/etc/haproxy/haproxy.cfg");
      const result = run("haproxy", ["-c", "-f", file]);
      const output = `${result.stdout}${result.stderr}`;
      console.log(
        `haproxy -c -f haproxy.cfg (production: ${production}): exit ${result.status}\n${output.trim()}`,
      );
      expect(result.status, output).toBe(0);
      expect(output).toContain("Configuration file is valid");
      expect(output).not.toContain("[WARNING]");
      expect(output).not.toContain("[ALERT]");
    });
  }
});
