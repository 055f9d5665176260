/**
 * The broker tokens scenarios 7, 9 and 15 write to the token Valkey before a fault and count after
 * it, as the apps would (their user, one SET per token): every acknowledged token must still be there.
 */
import Valkey from "iovalkey";
import { tokenNode } from "../../cloud-init/layout";
import { Lab } from "../lab";
import { Figure, appTarget, figure } from "./common";

/**
 * A client of the apps' user on the token Valkey. `reconnect` false: a lost connection stays lost
 * and a command without one fails at once (the caller connects again, to time the recovery);
 * true: it reconnects by itself and retries a command once.
 */
export function tokenClient(lab: Lab, reconnect = false): Valkey {
  const t = appTarget(lab, tokenNode(lab.layout));
  const client = new Valkey({
    host: t.host,
    port: t.port,
    username: t.username,
    password: t.password,
    lazyConnect: true,
    // The apps' user may not run INFO (ACL): no ready check.
    enableReadyCheck: false,
    connectTimeout: 2000,
    ...(reconnect
      ? { maxRetriesPerRequest: 1 }
      : { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null }),
  });
  client.on("error", () => undefined);
  return client;
}

/** The keys of `count` tokens of one scenario run (`tag` tells the runs apart). */
export function tokenKeys(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}:token:${i}`);
}

/** Writes one token per key, one at a time; resolves with how many were acknowledged (`OK`). */
export async function writeTokens(client: Valkey, keys: readonly string[]): Promise<number> {
  let acknowledged = 0;
  for (const key of keys) if ((await client.set(key, `broker-${key}`)) === "OK") acknowledged += 1;
  return acknowledged;
}

/** How many of `keys` the token Valkey holds (MGET, 200 keys a call). Rejects when it does not answer. */
export async function countTokens(client: Valkey, keys: readonly string[]): Promise<number> {
  let found = 0;
  for (let i = 0; i < keys.length; i += 200) {
    found += (await client.mget(...keys.slice(i, i + 200))).filter((v) => v !== null).length;
  }
  return found;
}

/**
 * The two token figures: acknowledged before the fault (goal: all of them) and lost across it (goal:
 * 0; null when they could not be counted, `present` < 0).
 */
export function tokenFigures(
  tokens: number,
  acknowledged: number,
  present: number,
  names: { readonly acknowledged: string; readonly lost: string },
): [Figure, Figure] {
  return [
    figure(
      "tokensAcknowledged",
      names.acknowledged,
      acknowledged,
      "tokens",
      String(tokens),
      acknowledged === tokens,
    ),
    figure(
      "tokensLost",
      names.lost,
      present < 0 ? null : acknowledged - present,
      "tokens",
      "0",
      present >= 0 && acknowledged - present === 0,
    ),
  ];
}
