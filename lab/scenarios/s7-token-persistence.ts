/**
 * Scenario 7, token persistence: write tokens to the gate's token Valkey (AOF, appendfsync everysec),
 * SIGKILL it, start it again from its rendered file: every acknowledged token is still there.
 */
import { sleep } from "../poll";
import { Figures, ScenarioContext, baseline, figure, ms } from "./common";
import { countTokens, tokenClient, tokenFigures, tokenKeys, writeTokens } from "./tokens";

export async function tokenPersistence(ctx: ScenarioContext, tokens = 1000): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const keys = tokenKeys(`s7-${Date.now().toString(36)}`, tokens);
  const figures = new Figures();
  const writer = tokenClient(lab);
  let acknowledged = 0;
  try {
    await writer.connect();
    acknowledged = await writeTokens(writer, keys);
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
    const reader = tokenClient(lab);
    try {
      await reader.connect();
      present = await countTokens(reader, keys);
      readyAt = performance.now();
      await reader.del(...keys);
    } catch {
      await sleep(50);
    } finally {
      reader.disconnect();
    }
  }
  figures.add(
    ...tokenFigures(tokens, acknowledged, present, {
      acknowledged: "tokens acknowledged before the kill",
      lost: "tokens lost",
    }),
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
