/**
 * Scenario 7, token persistence: write tokens to the gate's token Valkey (AOF, appendfsync everysec),
 * SIGKILL it, start it again from its rendered file: every acknowledged token is still there.
 */
import Valkey from "iovalkey";
import { sleep } from "../poll";
import { Figures, ScenarioContext, appTarget, baseline, figure, ms } from "./common";

export async function tokenPersistence(ctx: ScenarioContext, tokens = 1000): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const tag = `s7-${Date.now().toString(36)}`;
  const connect = (): Valkey =>
    new Valkey({
      host: lab.address("gate"),
      port: lab.layout.ports.valkey,
      username: appTarget(lab, "gate").username,
      password: appTarget(lab, "gate").password,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
    });
  const figures = new Figures();
  const writer = connect();
  writer.on("error", () => undefined);
  let acknowledged = 0;
  try {
    await writer.connect();
    for (let i = 0; i < tokens; i += 1) {
      if ((await writer.set(`${tag}:token:${i}`, `broker-token-${i}`)) === "OK") acknowledged += 1;
    }
  } finally {
    writer.disconnect();
  }
  log(`scenario 7: ${acknowledged} tokens written; SIGKILL gate/valkey-server, then start it again`);
  lab.signal("gate", "valkey-server", "SIGKILL");
  const startAt = performance.now();
  await lab.start("gate", "valkey-server");
  let present = -1;
  let readyAt: number | null = null;
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline && readyAt === null) {
    const reader = connect();
    reader.on("error", () => undefined);
    try {
      await reader.connect();
      const keys = Array.from({ length: tokens }, (_, i) => `${tag}:token:${i}`);
      let found = 0;
      for (let i = 0; i < keys.length; i += 200) {
        found += (await reader.mget(...keys.slice(i, i + 200))).filter((v) => v !== null).length;
      }
      present = found;
      readyAt = performance.now();
      await reader.del(...keys);
    } catch {
      await sleep(50);
    } finally {
      reader.disconnect();
    }
  }
  figures.add(
    figure(
      "tokensAcknowledged",
      "tokens acknowledged before the kill",
      acknowledged,
      "tokens",
      String(tokens),
      acknowledged === tokens,
    ),
  );
  figures.add(
    figure(
      "tokensLost",
      "tokens lost",
      present < 0 ? null : acknowledged - present,
      "tokens",
      "0",
      present >= 0 && acknowledged - present === 0,
    ),
  );
  figures.add(
    figure(
      "restartToReadyMs",
      "start to first answer with the data loaded",
      readyAt === null ? null : ms(startAt, readyAt),
      "ms",
    ),
  );
  await baseline(lab, log);
  return figures;
}
