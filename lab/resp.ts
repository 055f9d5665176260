/**
 * One-shot Valkey/Sentinel probes for the lab (status, health, scenario checks) on iovalkey, which
 * the scenarios already use for their Sentinel-aware clients: connect, AUTH, one command, close.
 * No retries, no offline queue, and the whole exchange is bounded by a timeout.
 */
import Valkey from "iovalkey";

export type RespValue = string | number | null | RespValue[];

export interface RespTarget {
  readonly host: string;
  readonly port: number;
  /** ACL user name sent with the password (`AUTH <username> <password>`). Default: none (`default`). */
  readonly username?: string;
  /** Sent as `AUTH [username] <password>` first when given. */
  readonly password?: string;
  /** Default 2000 ms, for the whole exchange. */
  readonly timeoutMs?: number;
}

const AUTH_FAILURE = /^(WRONGPASS|NOAUTH|ERR invalid password)/;

/**
 * Sends one command and returns its reply. Rejects on connection errors, timeouts, a failed AUTH
 * (`host:port: AUTH failed: …`) and error replies (iovalkey's `ReplyError`, message as sent).
 */
export async function respCommand(target: RespTarget, ...args: string[]): Promise<RespValue> {
  const { host, port, username, password } = target;
  const timeoutMs = target.timeoutMs ?? 2000;
  const client = new Valkey({
    host,
    port,
    username,
    password,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  // Connection errors surface through the rejected promises; keep the cause for their message.
  let lastError: Error | undefined;
  client.on("error", (err: Error) => (lastError = err));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${host}:${port}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const exchange = (async (): Promise<RespValue> => {
    await client.connect();
    return (await client.call(args[0] as string, ...args.slice(1))) as RespValue;
  })();
  exchange.catch(() => undefined); // it may settle after the deadline has already answered
  try {
    return await Promise.race([exchange, deadline]);
  } catch (err) {
    const message = (err as Error).message;
    if (AUTH_FAILURE.test(message)) throw new Error(`${host}:${port}: AUTH failed: ${message}`);
    if ((err as { name?: string }).name === "ReplyError" || message.startsWith(`${host}:${port}:`)) {
      throw err;
    }
    throw new Error(`${host}:${port}: ${lastError?.message ?? message}`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
