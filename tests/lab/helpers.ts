/**
 * Shared by the lab tests: the lab under test (`$YQ_LAB_DIR` or `<repo>/.lab`), bringing it up and
 * down, and running the CLI as a user would.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Lab } from "../../lab/lab";
import { labDir } from "../../lab/layout";
import { down, up } from "../../lab/lifecycle";
import { ensurePrograms, installInstructions } from "../../lab/prereqs";

export const REPO = path.resolve(__dirname, "../..");
const TSX = path.join(REPO, "node_modules", ".bin", "tsx");

/** Lines the lab prints while tests run, kept for failure messages. */
export const labLog: string[] = [];
export const log = (line: string): void => {
  labLog.push(line);
  if (process.env.YQ_LAB_VERBOSE === "1") console.log(line);
};

export function testLab(): Lab {
  return new Lab(labDir());
}

/** Brings the lab up (idempotent), failing with the install instructions when programs are missing. */
export async function labUp(): Promise<Lab> {
  const missing = ensurePrograms(process.getuid?.() === 0, log);
  if (missing.length > 0) throw new Error(installInstructions(missing));
  const lab = testLab();
  await up(lab, log);
  return lab;
}

export async function labDown(lab: Lab): Promise<void> {
  await down(lab, log);
}

/** Runs `npm run lab -- <args>` (as `tsx lab/cli.ts <args>`), bounded. */
export function cli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(TSX, [path.join(REPO, "lab", "cli.ts"), ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, ...env },
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
