/**
 * A minimal one-shot RESP client for the lab's probes (status, health, scenario checks): connect,
 * optionally AUTH, send commands, read replies, close. Every call is bounded by a timeout. The
 * scenarios that need a real Sentinel-aware client use iovalkey instead.
 */
import * as net from "node:net";

export type RespValue = string | number | null | RespError | RespValue[];

export class RespError extends Error {}

/** Parses one RESP value at `offset`; returns undefined when the buffer is incomplete. */
function parse(buf: Buffer, offset: number): { value: RespValue; next: number } | undefined {
  if (offset >= buf.length) return undefined;
  const eol = buf.indexOf("\r\n", offset);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[offset] as number);
  const line = buf.toString("utf8", offset + 1, eol);
  const after = eol + 2;
  switch (type) {
    case "+":
      return { value: line, next: after };
    case "-":
      return { value: new RespError(line), next: after };
    case ":":
      return { value: Number(line), next: after };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { value: buf.toString("utf8", after, after + len), next: after + len + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let pos = after;
      for (let i = 0; i < count; i += 1) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new RespError(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
}

export interface RespTarget {
  readonly host: string;
  readonly port: number;
  /** Sent as `AUTH <password>` first when given. */
  readonly password?: string;
  /** Default 2000 ms, for the whole exchange. */
  readonly timeoutMs?: number;
}

/**
 * Sends `commands` on one connection and returns their replies (after AUTH, whose reply is checked).
 * Rejects on connection errors, timeouts, or a failed AUTH; other error replies are returned as
 * `RespError` values.
 */
export function respCommands(
  target: RespTarget,
  commands: readonly (readonly string[])[],
): Promise<RespValue[]> {
  const all = target.password ? [["AUTH", target.password], ...commands] : [...commands];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let buf = Buffer.alloc(0);
    const replies: RespValue[] = [];
    let done = false;
    const finish = (err: Error | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(target.password ? replies.slice(1) : replies);
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`${target.host}:${target.port}: no answer within ${target.timeoutMs ?? 2000} ms`)),
      target.timeoutMs ?? 2000,
    );
    socket.on("connect", () => socket.write(all.map(encode).join("")));
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let parsed = parse(buf, 0);
      while (parsed) {
        replies.push(parsed.value);
        buf = buf.subarray(parsed.next);
        if (target.password && replies.length === 1 && replies[0] instanceof RespError) {
          finish(new Error(`${target.host}:${target.port}: AUTH failed: ${replies[0].message}`));
          return;
        }
        parsed = parse(buf, 0);
      }
      if (replies.length >= all.length) finish(undefined);
    });
    socket.on("error", (err) => finish(err));
    socket.on("close", () => finish(new Error(`${target.host}:${target.port}: connection closed`)));
  });
}

/** One command; error replies reject. */
export async function respCommand(target: RespTarget, ...args: string[]): Promise<RespValue> {
  const [reply] = await respCommands(target, [args]);
  if (reply instanceof RespError) throw reply;
  return reply ?? null;
}
