/** `--full`: reboots. The gate: the active color, the tokens and HAProxy come back. An engine. */
import type { NodeName } from "../../cloud-init/layout";
import type { ProgramView } from "../../vm/program";
import { Report, guest, oneLine, request, sleep, until } from "./report";
import { vcli } from "./valkey";

async function reboot(node: NodeName): Promise<string> {
  const t0 = Date.now();
  const before = (await guest(node, "cat /proc/sys/kernel/random/boot_id")).trim();
  await guest(node, "systemd-run --on-active=2 systemctl reboot >/dev/null 2>&1", 30);
  await sleep(5000);
  await until(600, async () => {
    const now = (await guest(node, "cat /proc/sys/kernel/random/boot_id", 20)).trim();
    if (now === before) throw new Error("not rebooted yet");
  });
  await until(300, () => guest(node, "/opt/yquant/bin/health-check.sh", 60));
  return `healthy ${((Date.now() - t0) / 1000).toFixed(0)}s after the reboot command`;
}

export async function rebootChecks(report: Report, view: ProgramView): Promise<void> {
  const gate = view.nodes.gate.privateIp;
  const live = async (): Promise<string> => (await request(`http://${gate}/health`)).body;
  const color = await live();
  await report.check("reboot: a token written to the gate's token Valkey before the reboot", async () =>
    vcli("gate", "set yq:vm:token t-1"),
  );
  await report.check("reboot: the gate comes back healthy", () => reboot("gate"));
  await report.check("reboot: gate: active color, token and HAProxy came back", async () => {
    // What HAProxy routes, agreeing with the switch map on disk (status exits non-zero otherwise).
    const status = JSON.parse(await guest("gate", "/opt/yquant/bin/switch-active.sh status --json")) as {
      live: string | null;
    };
    const c = status.live ?? "none";
    const token = await vcli("gate", "get yq:vm:token");
    const body = await until(30, live);
    if (token !== "t-1" || !color.includes(`"color": "${c}"`) || body !== color) {
      throw new Error(`color ${c}, token ${token}, live ${body} (was ${color})`);
    }
    const failed = (await guest("gate", "systemctl --failed --no-legend --plain")).trim();
    if (failed !== "") throw new Error(failed);
    return `active ${c}, token ${token}, ${oneLine(body, 60)}`;
  });
  await report.check("reboot: green (an engine) comes back healthy, no failed unit", async () => {
    const r = await reboot("green");
    const failed = (await guest("green", "systemctl --failed --no-legend --plain")).trim();
    if (failed !== "") throw new Error(failed);
    return r;
  });
}
