/**
 * Scenario 14, AUTH guessing: how fast one connection can try passwords against the message Valkey
 * (wrong `AUTH app <guess>`, one after the other for about 2 s), and what that means against
 * the passwords' entropy. Valkey does not slow AUTH down, so the defence is the entropy (32 generated
 * letters and digits in the cloud: 190 bits) plus private binds and the NSGs (docs/security.md).
 */
import * as net from "node:net";
import { GENERATED_PASSWORD_BITS } from "../../components/secrets";
import { Figures, ScenarioContext, appTarget, baseline, figure, round } from "./common";

export const AUTH_BATCH = 500;
export const AUTH_SECONDS = 2;

/**
 * Sends `count` wrong `AUTH app <guess>` on one socket, one at a time (Valkey 8 does not answer
 * pipelined AUTHs after a failed one promptly, so an attacker waits for each reply too); resolves
 * with the WRONGPASS replies.
 */
async function guessBatch(socket: net.Socket, from: number, count: number): Promise<number> {
  let refused = 0;
  for (let i = 0; i < count; i += 1) {
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once("data", (d: Buffer) => resolve(d.toString()));
      socket.once("error", reject);
      socket.write(`AUTH app guess-${from + i}\r\n`);
    });
    if (reply.startsWith("-WRONGPASS")) refused += 1;
  }
  return refused;
}

export async function authGuessing(ctx: ScenarioContext): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const t = appTarget(lab, "blue", 5000);
  const figures = new Figures();
  const socket = net.connect(t.port, t.host);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
  try {
    let tried = 0;
    let refused = 0;
    const started = performance.now();
    while (performance.now() - started < AUTH_SECONDS * 1000) {
      refused += await guessBatch(socket, tried, AUTH_BATCH);
      tried += AUTH_BATCH;
    }
    const seconds = (performance.now() - started) / 1000;
    const rate = Math.round(tried / seconds);
    // Years to try half the space: 2^(bits-1) guesses at `rate` per second.
    const log10Years = round(
      (GENERATED_PASSWORD_BITS - 1) * Math.log10(2) - Math.log10(rate * 3600 * 24 * 365),
      0,
    );
    log(`scenario: ${rate} AUTH guesses/s on one connection, all refused: ${refused === tried}`);
    figures.add(figure("guessesPerSecond", "wrong AUTH attempts per second, one connection", rate, "/s"));
    figures.add(
      figure(
        "allRefused",
        "every guess answered WRONGPASS",
        refused === tried,
        "",
        "true",
        refused === tried,
      ),
    );
    figures.add(
      figure(
        "log10YearsToHalfSpace",
        `log10 of the years to try half of a ${GENERATED_PASSWORD_BITS}-bit space at that rate`,
        log10Years,
        "",
        "> 40",
        log10Years > 40,
      ),
    );
  } finally {
    socket.destroy();
  }
  return figures;
}
