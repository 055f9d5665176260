/**
 * The stack's own pipeline against the VMs: the program's release and switch commands (their
 * `create` text unchanged) over real SSH with the stack's key, the gate as jump host. Deploy to the
 * standby, smoke test through staging (8080) from the admin address, switch, roll back.
 */
import type { Color } from "../../cloud-init/layout";
import { runCommand } from "../../vm/guests";
import { ADMIN_ADDRESS } from "../../vm/machine";
import { pipelineCommands, type ProgramView } from "../../vm/program";
import { stackProgram, type StackSecrets } from "../../vm/stack";
import { Report, oneLine, request, until } from "./report";
import { sentinelMaster } from "./valkey";

export const RELEASE = "v2";

async function liveColor(view: ProgramView): Promise<string> {
  const r = await request(`http://${view.nodes.gate.privateIp}/health`);
  if (r.status !== 200) throw new Error(`GET /health: ${r.status} ${r.body}`);
  return r.body;
}

export async function pipeline(report: Report, secrets: StackSecrets): Promise<void> {
  const releases = { blue: "placeholder", green: RELEASE } as const;
  const deploy = await stackProgram(secrets, "blue", releases);
  const gate = deploy.nodes.gate.privateIp;
  const run = (view: ProgramView, which: "switch" | Color): string => {
    const cmds = pipelineCommands(view);
    const cmd = which === "switch" ? cmds.switch : cmds.release[which];
    const r = runCommand(view, secrets.keyFile, cmd);
    if (r.code !== 0) throw new Error(`${cmd.name}: exit ${r.code}: ${r.stdout}${r.stderr}`);
    return `${cmd.name} over ssh as ${cmd.user}${cmd.proxyHost ? " via the gate" : ""}: ${oneLine(r.stdout, 120)}`;
  };

  await report.check(`pipeline: release ${RELEASE} to the standby (green), the program's command`, async () =>
    run(deploy, "green"),
  );
  await report.check("pipeline: smoke test through staging :8080 from the admin address", async () => {
    const r = await request(`http://${gate}:8080/health`, { localAddress: ADMIN_ADDRESS });
    if (
      r.status !== 200 ||
      !r.body.includes('"color": "green"') ||
      !r.body.includes(`"release": "${RELEASE}"`)
    ) {
      throw new Error(`${r.status} ${r.body}`);
    }
    return oneLine(r.body, 100);
  });
  await report.check("pipeline: live traffic still on blue before the switch", async () => {
    const body = await liveColor(deploy);
    if (!body.includes('"color": "blue"')) throw new Error(body);
    return oneLine(body, 100);
  });
  const toGreen = await stackProgram(secrets, "green", releases);
  await report.check(
    "pipeline: switch to green (the program's switch command, promotion included)",
    async () => run(toGreen, "switch"),
  );
  await report.check(`pipeline: live traffic on green ${RELEASE}, Sentinel master green`, async () => {
    const body = await until(30, async () => {
      const b = await liveColor(toGreen);
      if (!b.includes('"color": "green"') || !b.includes(RELEASE)) throw new Error(b);
      return b;
    });
    const master = await sentinelMaster("gate");
    if (master !== toGreen.nodes.green.privateIp) throw new Error(`master ${master}`);
    return `${oneLine(body, 80)}; master ${master}`;
  });
  const back = await stackProgram(secrets, "blue", releases);
  await report.check("pipeline: roll back to blue (the program's switch command)", async () =>
    run(back, "switch"),
  );
  await report.check("pipeline: live traffic back on blue, Sentinel master blue", async () => {
    const body = await until(30, async () => {
      const b = await liveColor(back);
      if (!b.includes('"color": "blue"')) throw new Error(b);
      return b;
    });
    const master = await sentinelMaster("gate");
    if (master !== back.nodes.blue.privateIp) throw new Error(`master ${master}`);
    return `${oneLine(body, 80)}; master ${master}`;
  });
}
