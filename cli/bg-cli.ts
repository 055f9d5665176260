/**
 * `npm run bg -- status | release <ref> | switch | promote | rebuild`: each step edits the stack file
 * (Pulumi.prod.yaml) in place, then puts the edit on a new branch with one commit and opens a pull
 * request (`gh pr create`) whose CI shows the step's `pulumi preview`. Without `gh` it prints the
 * exact commands that remain. A bad command line exits 2 and changes nothing. See cli/bg.ts.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Invocation, USAGE, UsageError, formatStatus, parseArgs, plan } from "./bg";
import { Color, isColor } from "../bluegreen/commands";
import { StackFileError, applyEdits, formatPath, readSettings } from "./stack-file";

class Refusal extends Error {}

function has(program: string): boolean {
  return spawnSync(program, ["--version"], { stdio: "ignore" }).status === 0;
}

function run(program: string, args: string[], cwd: string): string {
  const result = spawnSync(program, args, { cwd, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Refusal(
      `${program} ${args.join(" ")} failed: ${(result.stderr || result.stdout || "").trim()}`,
    );
  }
  return result.stdout.trim();
}

function quote(arg: string): string {
  return /^[A-Za-z0-9._/:=@-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The stack name from `Pulumi.<stack>.yaml`. */
function stackName(file: string): string {
  const match = /^Pulumi\.(.+)\.yaml$/.exec(path.basename(file));
  return match?.[1] ?? "prod";
}

/** The live color the stack recorded (`pulumi stack output liveColor`), when the CLI can tell. */
function liveColor(file: string): Color | undefined {
  if (!has("pulumi")) return undefined;
  const result = spawnSync("pulumi", ["stack", "output", "liveColor", "--stack", stackName(file)], {
    cwd: path.dirname(path.resolve(file)),
    encoding: "utf8",
  });
  const value = result.status === 0 ? result.stdout.trim() : "";
  return isColor(value) ? value : undefined;
}

function main(argv: readonly string[]): number {
  let invocation: Invocation;
  try {
    invocation = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`bg: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (invocation.command === "help") {
    console.log(USAGE);
    return 0;
  }
  const file = path.resolve(invocation.file);
  if (!fs.existsSync(file)) throw new Refusal(`${invocation.file} does not exist`);
  const text = fs.readFileSync(file, "utf8");
  const settings = readSettings(text);
  const live = liveColor(file);
  if (invocation.command === "status") {
    console.log(formatStatus(invocation.file, settings, live));
    return 0;
  }
  if (live && live !== settings.activeColor) {
    throw new Refusal(
      `${invocation.file} says activeColor ${settings.activeColor} but the stack is live on ${live}: a change is not ` +
        "deployed yet. Wait for the deploy workflow (or fix it), then run this again.",
    );
  }
  const step = plan(invocation, settings, live ?? settings.activeColor);
  if (step.nothingToDo) {
    console.log(`bg: nothing to do: ${step.nothingToDo}`);
    return 0;
  }
  console.log(`bg: ${step.summary}`);
  for (const edit of step.edits) console.log(`  ${formatPath(edit.path)}: ${String(edit.value)}`);

  const dir = path.dirname(file);
  const name = path.basename(file);
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
  const branch = `${step.branch}-${stamp}`;
  const remaining: string[][] = [
    ["git", "push", "-u", "origin", branch],
    [
      "gh",
      "pr",
      "create",
      "--base",
      "main",
      "--head",
      branch,
      "--title",
      step.prTitle,
      "--body",
      step.prBody,
    ],
  ];
  const useGit =
    invocation.git && has("git") && spawnSync("git", ["rev-parse", "--git-dir"], { cwd: dir }).status === 0;

  if (invocation.dryRun) {
    console.log("dry run: nothing changed. Would run:");
    const steps = useGit
      ? [
          ["git", "switch", "-c", branch],
          ["edit", name],
          ["git", "add", name],
          ["git", "commit", "-m", step.prTitle],
          ...remaining,
        ]
      : [["edit", name]];
    for (const s of steps) console.log(`  ${s.map(quote).join(" ")}`);
    return 0;
  }
  if (useGit && spawnSync("git", ["diff", "--quiet", "HEAD", "--", name], { cwd: dir }).status !== 0) {
    throw new Refusal(`${name} has uncommitted changes: commit or discard them first, then run this again`);
  }
  if (useGit) run("git", ["switch", "-c", branch], dir);
  fs.writeFileSync(file, applyEdits(text, step.edits));
  console.log(`bg: edited ${invocation.file}`);
  if (!useGit) {
    console.log("bg: next, put it on a branch and open a pull request, e.g.:");
    console.log(`  git switch -c ${branch} && git add ${name} && git commit -m ${quote(step.prTitle)}`);
    for (const s of remaining) console.log(`  ${s.map(quote).join(" ")}`);
    return 0;
  }
  run("git", ["add", name], dir);
  run("git", ["commit", "-q", "-m", step.prTitle, "-m", step.prBody], dir);
  console.log(`bg: committed on branch ${branch}`);
  if (!has("gh")) {
    console.log("bg: gh is not installed; open the pull request with:");
    for (const s of remaining) console.log(`  ${s.map(quote).join(" ")}`);
    return 0;
  }
  for (const s of remaining) console.log(run(s[0] as string, s.slice(1), dir));
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof Refusal || error instanceof StackFileError) {
    console.error(`bg: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
