/** The VM suite's checks and figures: PASS/FAIL lines, then `N passed, N failed`. */
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { NodeName } from "../../cloud-init/layout";
import { inGuest } from "../../vm/guests";

export class Report {
  passed = 0;
  failed = 0;
  readonly figures: string[] = [];
  readonly failures: string[] = [];

  /** Runs `fn`; it returns a detail line, or throws with the reason. */
  async check(name: string, fn: () => Promise<string>): Promise<boolean> {
    const t0 = Date.now();
    try {
      const detail = await fn();
      this.passed += 1;
      process.stdout.write(`PASS ${name} (${secs(t0)}s) ${oneLine(detail, 180)}\n`);
      return true;
    } catch (e) {
      this.failed += 1;
      const why = e instanceof Error ? e.message : String(e);
      // A failing command's last lines say why: the FAIL line keeps all of it, the summary its tail.
      this.failures.push(`${name}: ${lastChars(oneLine(why, Infinity), 600)}`);
      process.stdout.write(`FAIL ${name} (${secs(t0)}s) ${oneLine(why, 8000)}\n`);
      return false;
    }
  }

  figure(line: string): void {
    this.figures.push(line);
    process.stdout.write(`FIGURE ${line}\n`);
  }
}

export const secs = (t0: number): string => ((Date.now() - t0) / 1000).toFixed(1);
export const oneLine = (s: string, n: number): string => s.replace(/\s+/g, " ").trim().slice(0, n);
export const lastChars = (s: string, n: number): string => (s.length > n ? `…${s.slice(-n)}` : s);
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `command` in the guest; throws with its output unless it exits 0. Returns stdout. */
export async function guest(node: NodeName, command: string, timeoutSeconds = 60): Promise<string> {
  const r = await inGuest(node, command, timeoutSeconds);
  if (r.code !== 0) throw new Error(`${node}: exit ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Retries `fn` every 2 s for up to `seconds`; the last error if it never succeeds. */
export async function until<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    await sleep(2000);
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** One request on a new connection, from `localAddress` when given. */
export function request(
  url: string,
  opts: { method?: string; body?: string; localAddress?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const u = new URL(url);
  const lib = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? "GET",
        localAddress: opts.localAddress,
        agent: false,
        rejectUnauthorized: false,
        timeout: opts.timeoutMs ?? 5000,
        headers: opts.body
          ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(opts.body) }
          : {},
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 5000} ms`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** "refused" (RST or ICMP reject), "timeout", or "open", for a new TCP connection. */
export function tcpProbe(host: string, port: number, timeoutMs = 4000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (what: string): void => {
      s.destroy();
      resolve(what);
    };
    s.setTimeout(timeoutMs, () => done("timeout"));
    s.once("connect", () => done("open"));
    s.once("error", (e: NodeJS.ErrnoException) => done(`refused (${e.code ?? e.message})`));
  });
}
