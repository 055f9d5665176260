/**
 * The scenarios' HTTP load: N concurrent clients (Node's http with a keep-alive agent) sending GETs
 * and POSTs through the gate's live port, bounded by a request count and by time. Every request is
 * recorded with its start and end time, its status and the color that served it.
 */
import * as http from "node:http";

export type Method = "GET" | "POST";

export interface RequestRecord {
  readonly method: Method;
  /** performance.now() at send and at the end of the response (or the error). */
  readonly start: number;
  readonly end: number;
  /** HTTP status, 0 on a transport error. */
  readonly status: number;
  /** The color named by the response body, or null. */
  readonly color: "blue" | "green" | null;
  /** The order id of a POST. */
  readonly id: string | null;
  readonly error: string | null;
  /**
   * 1 when a GET was sent again, once, on a fresh connection, because its connection was closed
   * before any response: at a reload, HAProxy 2.6's old worker closes its idle keep-alive connections
   * and the ones it accepted but has not read a request from yet. RFC 9112 (9.3.1) lets a client
   * resend an idempotent request in that case, and browsers do for reused connections; Node's http
   * does not, so the load does it here and counts it. POSTs are never resent.
   */
  readonly retried: number;
}

export function isOk(r: RequestRecord): boolean {
  return r.status >= 200 && r.status < 300;
}

export interface LoadOptions {
  /** e.g. http://127.0.10.1:80 */
  readonly baseUrl: string;
  readonly concurrency: number;
  /** Stop sending once this many requests were sent, unless `keepGoing` says otherwise. */
  readonly total: number;
  /** Hard bound on the run, in ms. */
  readonly maxMs: number;
  /** Share of POSTs (0..1); the rest are GETs of `/`. Default 0. */
  readonly postShare?: number;
  /** Sent as the Cookie header when given. */
  readonly cookie?: string;
  /** Called after each request; return nothing. */
  readonly onRecord?: (r: RequestRecord, done: number) => void;
  /** While this returns true the load goes on past `total` (still bounded by `maxMs`). */
  readonly keepGoing?: () => boolean;
  /** When this returns true the load stops at once (still finishing requests in flight). */
  readonly stop?: () => boolean;
  /** Prefix of POST ids. Default `o`. */
  readonly idPrefix?: string;
  /** Per-request timeout in ms. Default 10000. */
  readonly requestTimeoutMs?: number;
}

export interface LoadResult {
  readonly records: RequestRecord[];
  readonly startedAt: number;
  readonly endedAt: number;
}

const COLOR_IN_BODY = /\b(blue|green)\b/;

/** A transport error, and whether the connection closed before any response came. */
class SendError extends Error {
  constructor(
    message: string,
    readonly closedBeforeResponse: boolean,
  ) {
    super(message);
  }
}

function once(
  agent: http.Agent,
  url: URL,
  method: Method,
  body: string | null,
  cookie: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (cookie) headers.Cookie = cookie;
    if (body !== null) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    let responded = false;
    const req = http.request(url, { method, agent, headers, timeout: timeoutMs }, (res) => {
      responded = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const closed =
        !responded && (err.code === "ECONNRESET" || err.code === "EPIPE" || err.message === "socket hang up");
      reject(new SendError(err.message, closed));
    });
    req.end(body ?? undefined);
  });
}

/** Runs the load to completion and returns every request. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  // A resend goes on a new connection, never on another idle one that may be closing too.
  const fresh = new http.Agent({ keepAlive: false });
  const records: RequestRecord[] = [];
  const startedAt = performance.now();
  const deadline = startedAt + options.maxMs;
  const prefix = options.idPrefix ?? "o";
  const postShare = options.postShare ?? 0;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  let sent = 0;
  const more = (): boolean => {
    if (performance.now() >= deadline) return false;
    if (options.stop?.()) return false;
    return sent < options.total || (options.keepGoing?.() ?? false);
  };
  const worker = async (): Promise<void> => {
    while (more()) {
      const n = sent;
      sent += 1;
      // Spread POSTs evenly: request n is a POST when the running share would fall below the target.
      const isPost = postShare > 0 && Math.floor((n + 1) * postShare) > Math.floor(n * postShare);
      const method: Method = isPost ? "POST" : "GET";
      const id = isPost ? `${prefix}-${n}` : null;
      const url = new URL(isPost ? "/orders" : "/", options.baseUrl);
      const start = performance.now();
      let record: RequestRecord | undefined;
      let retried = 0;
      while (record === undefined) {
        try {
          const res = await once(
            retried === 0 ? agent : fresh,
            url,
            method,
            isPost ? JSON.stringify({ id }) : null,
            options.cookie,
            timeoutMs,
          );
          const color = COLOR_IN_BODY.exec(res.body)?.[1] as "blue" | "green" | undefined;
          record = {
            method,
            start,
            end: performance.now(),
            status: res.status,
            color: color ?? null,
            id,
            error: null,
            retried,
          };
        } catch (err) {
          if (err instanceof SendError && err.closedBeforeResponse && method === "GET" && retried === 0) {
            retried = 1;
            continue;
          }
          record = {
            method,
            start,
            end: performance.now(),
            status: 0,
            color: null,
            id,
            error: (err as Error).message,
            retried,
          };
        }
      }
      records.push(record);
      options.onRecord?.(record, records.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  } finally {
    agent.destroy();
    fresh.destroy();
  }
  return { records, startedAt, endedAt: performance.now() };
}

/** Summary counts of a load. */
export function summarise(records: readonly RequestRecord[]): {
  total: number;
  failed: number;
  /** GETs resent once after their connection closed before any response (see RequestRecord.retried). */
  retried: number;
  byColor: Record<"blue" | "green" | "none", number>;
} {
  const byColor = { blue: 0, green: 0, none: 0 };
  let failed = 0;
  let retried = 0;
  for (const r of records) {
    if (!isOk(r)) failed += 1;
    retried += r.retried;
    byColor[r.color ?? "none"] += 1;
  }
  return { total: records.length, failed, retried, byColor };
}
