/** Probes of a running lab node over the network: HTTP, and what its Sentinel sees. */
import * as http from "node:http";
import { NodeName } from "../cloud-init/layout";
import { USER_NAMES } from "../cloud-init/valkey";
import { Lab } from "./lab";
import { respCommand } from "./resp";

/** GET with a bound; resolves with status and body, rejects on errors. */
export function httpGet(
  url: string,
  timeoutMs = 2000,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** The message master as one node's Sentinel sees it (`SENTINEL GET-MASTER-ADDR-BY-NAME`). */
export async function sentinelMaster(lab: Lab, node: NodeName, timeoutMs = 1500): Promise<string | null> {
  const reply = await respCommand(
    {
      host: lab.address(node),
      port: lab.layout.ports.sentinel,
      username: USER_NAMES.app,
      password: lab.layout.secrets.sentinelPassword,
      timeoutMs,
    },
    "SENTINEL",
    "GET-MASTER-ADDR-BY-NAME",
    lab.layout.sentinel.masterName,
  );
  return Array.isArray(reply) && reply.length === 2 ? `${String(reply[0])}:${String(reply[1])}` : null;
}
