/**
 * The VM suite (`npm run vm -- test`): boots gate, blue and green from the program's own user data
 * (vm/cli.ts `up`), then checks first boot, traffic, the firewall, Sentinel, the pipeline over SSH
 * and a hard power-off under load; `--full` adds reboots. Prints PASS/FAIL lines, FIGURE lines and
 * a closing `N passed, N failed`; exits non-zero on any failure. Runs inside the VM namespace.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_PORTS, NODE_NAMES, type NodeName } from "../../cloud-init/layout";
import { up } from "../../vm/cli";
import { ADMIN_ADDRESS, log, runDir } from "../../vm/machine";
import { stackProgram, stackSecrets } from "../../vm/stack";
import { bootChecks } from "./checks";
import { powerOffActiveMaster } from "./faults";
import { pipeline } from "./pipeline";
import { rebootChecks } from "./reboots";
import { Report, oneLine, request, tcpProbe, until } from "./report";
import { replication, sentinelMaster, vcli } from "./valkey";

export interface SuiteOptions {
  readonly full: boolean;
  /** Use the VMs already running (from `npm run vm -- up`) instead of booting them afresh. */
  readonly reuse?: boolean;
  /** Only these nodes (development): their first-boot checks, nothing that needs all three. */
  readonly nodes?: readonly NodeName[];
}

export async function runSuite(opts: SuiteOptions): Promise<number> {
  const t0 = Date.now();
  const report = new Report();
  const secrets = stackSecrets();
  const view = await stackProgram(secrets);
  const ip = (n: "gate" | "blue" | "green"): string => view.nodes[n].privateIp;
  const nodes = opts.nodes ?? NODE_NAMES;
  const all = NODE_NAMES.every((n) => nodes.includes(n));
  const booted = await report.check(`up: ${nodes.join(", ")} reach cloud-init done`, async () => {
    if (!opts.reuse) await up(view, nodes);
    return nodes
      .map((n) => {
        const f = path.join(runDir(n), "timing.json");
        const t = fs.existsSync(f)
          ? (JSON.parse(fs.readFileSync(f, "utf8")) as { doneSeconds: number })
          : undefined;
        return `${n} ${t?.doneSeconds ?? "?"}s`;
      })
      .join(", ");
  });
  if (booted) await bootChecks(report, nodes);
  if (!all)
    process.stdout.write(
      `PARTIAL: only ${nodes.join(", ")}: traffic, firewall, Sentinel, pipeline and faults need all three nodes\n`,
    );
  if (booted && all) {
    await report.check("traffic: http :80 through the gate reaches blue", async () => {
      const r = await until(30, async () => {
        const a = await request(`http://${ip("gate")}/`);
        if (a.status !== 200 || !a.body.includes("blue")) throw new Error(`${a.status} ${a.body}`);
        return a;
      });
      return oneLine(r.body, 80);
    });
    await report.check("traffic: https :443 (self-signed) reaches blue", async () => {
      const r = await request(`https://${ip("gate")}/health`);
      if (r.status !== 200 || !r.body.includes('"color": "blue"')) throw new Error(`${r.status} ${r.body}`);
      return oneLine(r.body, 80);
    });
    await report.check("traffic: POST /orders through the gate answers 201", async () => {
      const r = await request(`http://${ip("gate")}/orders`, { method: "POST", body: '{"id":"vm-1"}' });
      if (r.status !== 201) throw new Error(`${r.status} ${r.body}`);
      return oneLine(r.body, 80);
    });
    const closed: [string, string, number][] = [
      ["gate staging :8080 (non-admin client)", ip("gate"), 8080],
      ["gate token Valkey :6379", ip("gate"), 6379],
      ["gate Sentinel :26379", ip("gate"), 26379],
      [`gate message replica :${DEFAULT_PORTS.replica}`, ip("gate"), DEFAULT_PORTS.replica],
      ["blue app :5000", ip("blue"), 5000],
      ["blue Valkey :6379", ip("blue"), 6379],
      ["green app :5000", ip("green"), 5000],
    ];
    for (const [name, host, port] of closed) {
      await report.check(`firewall: ${name} refused from outside`, async () => {
        const r = await tcpProbe(host, port);
        if (r === "open") throw new Error(`${host}:${port} accepted a connection`);
        return r;
      });
    }
    await report.check("firewall: staging :8080 answers the admin address", async () => {
      const r = await request(`http://${ip("gate")}:8080/health`, { localAddress: ADMIN_ADDRESS });
      if (r.status !== 200 || !r.body.includes('"color": "green"')) throw new Error(`${r.status} ${r.body}`);
      return oneLine(r.body, 80);
    });
    await report.check(`sentinel: all three agree the master is blue (${ip("blue")})`, async () => {
      const masters = await Promise.all(NODE_NAMES.map((n) => sentinelMaster(n)));
      if (masters.some((m) => m !== ip("blue"))) throw new Error(masters.join(", "));
      return masters.join(", ");
    });
    await report.check("sentinel: green replicates blue (write on blue, read on green)", async () => {
      const role = await until(60, async () => {
        const r = await replication("green");
        if (!r.includes("role:slave") || !r.includes("master_link_status:up")) throw new Error(r);
        return r;
      });
      await vcli("green", "set yq:vm:probe v1", `"${ip("blue")}"`);
      await until(10, async () => {
        if ((await vcli("green", "get yq:vm:probe")) !== "v1") throw new Error("not replicated");
      });
      return role;
    });
    await pipeline(report, secrets);
    await powerOffActiveMaster(report, view, "blue");
    if (opts.full) await rebootChecks(report, view);
  }
  const minutes = ((Date.now() - t0) / 60000).toFixed(1);
  log(`suite: ${minutes} min`);
  for (const f of report.figures) process.stdout.write(`figure: ${f}\n`);
  for (const f of report.failures) process.stdout.write(`failed: ${f}\n`);
  process.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
  return report.failed === 0 ? 0 : 1;
}
