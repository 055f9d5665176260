/**
 * `npm run bg -- status | release <ref> | switch | promote | rebuild`: each step edits the stack file
 * (Pulumi.prod.yaml) in place, then puts the edit on a new branch with one commit and opens a pull
 * request (`gh pr create`) whose CI shows the step's `pulumi preview`. Without `gh` it prints the
 * exact commands that remain. A bad command line exits 2 and changes nothing. See cli/bg.ts.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Invocation, USAGE, UsageError, commandUsage, formatStatus, parseArgs, plan } from "./bg";
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

/** Why `file` cannot be the stack file, or undefined. */
function stackFileProblem(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return "no such file";
  }
  if (stat.isDirectory()) return "is a directory, not a stack file (e.g. Pulumi.prod.yaml)";
  if (!stat.isFile()) return "is not a regular file";
  try {
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return "cannot be read and written by this user";
  }
  return undefined;
}

/**
 * Why a step may not start from the checked-out commit, or undefined: each step is a branch off
 * main as merged, so it must not build on a step's branch (bg/...) or on commits that main does not
 * have yet (origin/main, when the clone has it).
 */
export function unmergedBase(dir: string): string | undefined {
  const git = (...args: string[]) => spawnSync("git", args, { cwd: dir, encoding: "utf8" });
  const branch = git("rev-parse", "--abbrev-ref", "HEAD").stdout.trim();
  if (branch.startsWith("bg/")) {
    return (
      `HEAD is on ${branch}, the branch of a step that is not merged yet: merge (or close) its pull ` +
      "request, then `git switch main && git pull`, and run this again"
    );
  }
  if (git("rev-parse", "--verify", "-q", "origin/main").status !== 0) return undefined;
  const ahead = Number(git("rev-list", "--count", "origin/main..HEAD").stdout.trim());
  if (ahead > 0) {
    return (
      `HEAD (${branch}) has ${ahead} commit${ahead === 1 ? "" : "s"} that origin/main does not have: a ` +
      "step builds on main as merged. Merge them first (or `git switch main && git pull`), then run this again"
    );
  }
  return undefined;
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
      console.error(`bg: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (invocation.command === "help") {
    console.log(invocation.topic ? commandUsage(invocation.topic) : USAGE);
    return 0;
  }
  const file = path.resolve(invocation.file);
  const problem = stackFileProblem(file);
  if (problem) {
    console.error(`bg: --file "${invocation.file}": ${problem}`);
    return 2;
  }
  const text = fs.readFileSync(file, "utf8");
  const settings = readSettings(text);
  const live = liveColor(file);
  if (invocation.command === "status") {
    console.log(formatStatus(invocation.file, settings, live));
    return 0;
  }
  const dir = path.dirname(file);
  const useGit =
    invocation.git && has("git") && spawnSync("git", ["rev-parse", "--git-dir"], { cwd: dir }).status === 0;
  if (useGit) {
    const unmerged = unmergedBase(dir);
    if (unmerged) throw new Refusal(unmerged);
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
  } else if (typeof (error as NodeJS.ErrnoException).code === "string") {
    // A file-system error (permissions, a full disk): one line, not a stack trace.
    console.error(`bg: ${(error as Error).message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
