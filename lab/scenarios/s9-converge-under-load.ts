/**
 * Scenario 9, configuration convergence under live load: the operator changes `adminCidrs` and a
 * Sentinel setting (`down-after-milliseconds`); every node's converge.sh gets its new bundle, in the
 * stack's order (standby engine, active engine, gate), while 32 clients keep the live port busy.
 * Then: 0 failed live requests, the new settings in force in the running processes of every node
 * (HAProxy's admin ACL, each Sentinel's down-after), the message master unchanged, every token kept,
 * and a second converge with the same files runs nothing. The lab is converged back afterwards.
 */
import { Layout, nodeNames } from "../../cloud-init/layout";
import { convergeAll } from "../converge";
import { runLoad, summarise } from "../load";
import { sentinelMaster } from "../probes";
import { respCommand } from "../resp";
import { Figures, ScenarioContext, baseline, figure, sentinelAdminTarget } from "./common";
import { countTokens, tokenClient, tokenKeys, writeTokens } from "./tokens";

/** The admin CIDR and Sentinel setting the scenario moves to. */
export const CONVERGE_ADMIN_CIDR = "198.51.100.0/24";
export const CONVERGE_DOWN_AFTER_MS = 6000;

export function changedLayout(layout: Layout): Layout {
  return {
    ...layout,
    adminCidrs: [...layout.adminCidrs, CONVERGE_ADMIN_CIDR],
    sentinel: { ...layout.sentinel, downAfterMilliseconds: CONVERGE_DOWN_AFTER_MS },
  };
}

/** Entries of every `src` ACL of the running HAProxy (admin socket `show acl`). */
async function haproxySrcAclEntries(socket: string): Promise<string[]> {
  const { execFileSync } = await import("node:child_process");
  const ask = (cmd: string): string =>
    execFileSync("socat", ["-t", "2", "stdio", `unix-connect:${socket}`], {
      input: `${cmd}\n`,
      encoding: "utf8",
    });
  const ids = ask("show acl")
    .split("\n")
    .filter((l) => l.includes("acl 'src'"))
    .map((l) => l.split(" ")[0]);
  return ids.flatMap((id) =>
    ask(`show acl #${id}`)
      .split("\n")
      .map((l) => l.split(" ")[1] ?? "")
      .filter(Boolean),
  );
}

export async function convergeUnderLoad(
  ctx: ScenarioContext,
  requests = 8000,
  tokens = 500,
): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const figures = new Figures();
  const keys = tokenKeys(`s9-${Date.now().toString(36)}`, tokens);
  const client = tokenClient(lab, true);
  await client.connect();
  await writeTokens(client, keys);
  const masterBefore = await sentinelMaster(lab, "gate");
  const target = changedLayout(lab.layout);
  const socket = `${lab.root("gate")}/run/haproxy/admin.sock`;

  log(`scenario 9: ${requests} requests at 32 clients; converging adminCidrs + down-after on every node`);
  let converging = true;
  const load = runLoad({
    baseUrl: lab.liveUrl(""),
    concurrency: 32,
    total: requests,
    maxMs: 180_000,
    keepGoing: () => converging,
  });
  let runs: Awaited<ReturnType<typeof convergeAll>> = [];
  try {
    await new Promise((r) => setTimeout(r, 300));
    runs = await convergeAll(lab, target, "blue");
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    converging = false;
  }
  const sum = summarise((await load).records);
  for (const r of runs)
    log(`scenario 9: converge ${r.node} exited ${r.status} after ${r.ms} ms\n${r.stdout}${r.stderr}`);

  const downAfter = await Promise.all(
    nodeNames(lab.layout).map(async (n) => {
      const reply = await respCommand(
        sentinelAdminTarget(lab, n),
        "SENTINEL",
        "MASTER",
        lab.layout.sentinel.masterName,
      );
      const flat = Array.isArray(reply) ? reply.map(String) : [];
      return Number(flat[flat.indexOf("down-after-milliseconds") + 1]);
    }),
  );
  const aclEntries = await haproxySrcAclEntries(socket);
  const masterAfter = await sentinelMaster(lab, "gate");
  const present = await countTokens(client, keys);
  await client.del(...keys);
  client.disconnect();
  const again = await convergeAll(lab, target, "blue");
  const idle = again.filter((r) => r.status === 0 && r.stdout.includes("nothing to do")).length;
  const restore = await convergeAll(lab, lab.layout, "blue");

  const exits = runs.map((r) => r.status).join(",");
  figures.add(figure("requests", "live requests during the converge", sum.total, "requests"));
  figures.add(
    figure("failedRequests", "failed live requests", sum.failed, "requests", "0", sum.failed === 0),
  );
  figures.add(
    figure(
      "convergeExitCodes",
      "converge exit codes (standby, active, gate)",
      exits,
      "",
      "0,0,0",
      exits === "0,0,0",
    ),
  );
  for (const r of runs) figures.add(figure(`convergeMs.${r.node}`, `converge of ${r.node}`, r.ms, "ms"));
  const inForce = downAfter.filter((v) => v === CONVERGE_DOWN_AFTER_MS).length;
  figures.add(
    figure(
      "sentinelsWithNewSetting",
      "Sentinels with the new down-after in force",
      inForce,
      "of 3",
      "3",
      inForce === 3,
    ),
  );
  const acl = aclEntries.includes(CONVERGE_ADMIN_CIDR);
  figures.add(
    figure("haproxyAdminAclInForce", "running HAProxy's admin ACL has the new CIDR", acl, "", "true", acl),
  );
  const same = masterBefore !== null && masterBefore === masterAfter;
  figures.add(figure("messageMasterKept", "message master unchanged", same, "", "true", same));
  figures.add(figure("tokensLost", "tokens lost", tokens - present, "tokens", "0", present === tokens));
  figures.add(
    figure(
      "secondConvergeIdleNodes",
      "nodes a second converge left untouched",
      idle,
      "of 3",
      "3",
      idle === 3,
    ),
  );
  const restored = restore.every((r) => r.status === 0);
  figures.add(
    figure("restoredExit", "converge back to the lab's own layout", restored, "", "true", restored),
  );
  await baseline(lab, log);
  return figures;
}
