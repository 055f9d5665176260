/** The bg CLI: argument checks, plans, and YAML-preserving edits of a temp copy of Pulumi.prod.yaml. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { Invocation, USAGE, UsageError, commandUsage, formatStatus, parseArgs, plan } from "../../cli/bg";
import { applyEdits, readSettings } from "../../cli/stack-file";

const ROOT = path.resolve(__dirname, "../..");
const PROD = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

function changedLines(a: string, b: string): [string, string][] {
  const x = a.split("\n");
  const y = b.split("\n");
  expect(y.length).toBe(x.length);
  return x.flatMap((line, i) => (line === y[i] ? [] : [[line, y[i] as string] as [string, string]]));
}

const invocation = (argv: string[]): Invocation => parseArgs([...argv, "--no-git"]);

describe("the stack file", () => {
  it("reads the pipeline's settings from Pulumi.prod.yaml", () => {
    expect(readSettings(PROD)).toEqual({
      activeColor: "blue",
      standbyColor: "green",
      releases: { blue: "placeholder", green: "placeholder" },
      rebuild: { blue: 0, green: 0 },
      messageMasterFollowsActive: true,
    });
  });

  it("round-trips byte for byte, and an edit changes exactly one line, keeping comments and order", () => {
    expect(applyEdits(PROD, [])).toBe(PROD);
    const edited = applyEdits(PROD, [{ path: ["releases", "green"], value: "v1.1.0" }]);
    expect(changedLines(PROD, edited)).toEqual([["    green: placeholder", "    green: v1.1.0"]]);
    expect(changedLines(PROD, applyEdits(PROD, [{ path: ["activeColor"], value: "green" }]))).toEqual([
      ["  yquant:activeColor: blue", "  yquant:activeColor: green"],
    ]);
    expect(changedLines(PROD, applyEdits(PROD, [{ path: ["rebuild", "green"], value: 1 }]))).toEqual([
      ["    green: 0", "    green: 1"],
    ]);
  });

  it("adds a missing key at the end of the config map", () => {
    const text = "# keep me\nconfig:\n  yquant:activeColor: green # live\n";
    expect(applyEdits(text, [{ path: ["releases", "blue"], value: "v2" }])).toBe(
      "# keep me\nconfig:\n  yquant:activeColor: green # live\n  yquant:releases:\n    blue: v2\n",
    );
    expect(readSettings(text).standbyColor).toBe("blue");
  });

  it("names the key it cannot read", () => {
    expect(() => readSettings("config:\n  yquant:activeColor: purple\n")).toThrow(
      'yquant:activeColor: "purple" is not a color (blue or green)',
    );
    expect(() => readSettings("config:\n  yquant:rebuild:\n    green: -1\n")).toThrow(
      "yquant:rebuild.green: -1 is not a rebuild counter",
    );
  });
});

describe("plans", () => {
  const settings = readSettings(PROD);

  it("release: deploys to the standby, never to the active color", () => {
    const step = plan(invocation(["release", "v1.1.0"]), settings);
    expect([step.summary, step.edits, step.branch]).toEqual([
      "Deploy v1.1.0 to the standby green (was placeholder)",
      [{ path: ["releases", "green"], value: "v1.1.0" }],
      "bg/release-green-v1.1.0",
    ]);
    expect(plan(invocation(["release", "v1.1.0"]), settings, "green").edits).toEqual([
      { path: ["releases", "blue"], value: "v1.1.0" },
    ]);
    expect(plan(invocation(["release", "placeholder"]), settings).nothingToDo).toBe(
      "the standby green already has release placeholder",
    );
  });

  it("switch: activeColor to the standby; promote: only when the master does not follow", () => {
    expect(plan(invocation(["switch"]), settings).edits).toEqual([{ path: ["activeColor"], value: "green" }]);
    expect(plan(invocation(["promote"]), settings).edits).toEqual([]);
    const off = { ...settings, messageMasterFollowsActive: false };
    expect(plan(invocation(["promote"]), off).edits).toEqual([
      { path: ["messageMasterFollowsActive"], value: true },
    ]);
    expect(plan(invocation(["switch"]), off).prBody).toContain("the message Valkey master stays");
  });

  it("rebuild: bumps the standby's counter only", () => {
    const step = plan(invocation(["rebuild"]), { ...settings, rebuild: { blue: 4, green: 2 } });
    expect([step.edits, step.branch]).toEqual([
      [{ path: ["rebuild", "green"], value: 3 }],
      "bg/rebuild-green-3",
    ]);
  });

  it("status: says where the active color comes from and warns about an undeployed change", () => {
    expect(formatStatus("Pulumi.prod.yaml", settings).split("\n")[0]).toBe(
      "active:  blue   release placeholder   (from Pulumi.prod.yaml (no stack output available))",
    );
    expect(formatStatus("Pulumi.prod.yaml", settings, "green").split("\n")).toContain(
      "WARNING: Pulumi.prod.yaml says activeColor blue, the stack is live on green: a change is not deployed yet.",
    );
  });
});

describe("arguments", () => {
  it.each([
    [[], "missing the command: expected one of status, release, switch, promote, rebuild, help"],
    [["deploy"], 'unknown command "deploy": expected one of status, release, switch, promote, rebuild, help'],
    [
      ["help", "deploy"],
      'help: unknown command "deploy": expected one of status, release, switch, promote, rebuild, help',
    ],
    [["release"], "release: missing <ref> (a tag, branch or commit of appRepository, or placeholder)"],
    [
      ["release", "../etc"],
      "release: \"../etc\" is not a release ref: use 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without \"..\"",
    ],
    [["release", "v1", "v2"], 'release: unexpected argument "v2"'],
    [["switch", "green"], 'switch: unexpected argument "green"'],
    [["status", "--force"], 'unknown option "--force": allowed --file PATH, --no-git, --dry-run, -h/--help'],
    [["status", "--file"], "--file needs a value: PATH"],
    [["status", "--file", "-rf"], 'invalid --file "-rf": values may not start with "-"'],
    [["status", "--file=-rf"], 'invalid --file "-rf": values may not start with "-"'],
    [
      ["status", "--dry-run=yes"],
      "--dry-run takes no value: allowed --file PATH, --no-git, --dry-run, -h/--help",
    ],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(new UsageError(message));
  });
});

describe("the CLI on a temp copy of Pulumi.prod.yaml", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bg-"));
    file = path.join(dir, "Pulumi.prod.yaml");
    fs.writeFileSync(file, PROD);
  });
  const bg = (...args: string[]) =>
    spawnSync(TSX, [path.join(ROOT, "cli/bg-cli.ts"), ...args], { encoding: "utf8", cwd: dir });

  it("exits 2 on a bad ref or an unknown command, changing nothing", () => {
    const bad = bg("release", "v1;reboot", "--file", file);
    expect([bad.status, bad.stderr.split("\n")[0]]).toEqual([
      2,
      "bg: release: \"v1;reboot\" is not a release ref: use 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without \"..\"",
    ]);
    const unknown = bg("deploy", "--file", file);
    expect([unknown.status, unknown.stderr]).toEqual([
      2,
      'bg: unknown command "deploy": expected one of status, release, switch, promote, rebuild, help\n',
    ]);
    expect(fs.readFileSync(file, "utf8")).toBe(PROD);
  });

  it("release edits the standby's release in place and prints the remaining commands", () => {
    const result = bg("release", "v1.1.0", "--file", file, "--no-git");
    expect(result.status).toBe(0);
    expect(result.stdout.split("\n").slice(0, 3)).toEqual([
      "bg: Deploy v1.1.0 to the standby green (was placeholder)",
      "  yquant:releases.green: v1.1.0",
      `bg: edited ${file}`,
    ]);
    expect(result.stdout).toContain("gh pr create --base main --head bg/release-green-v1.1.0-");
    expect(changedLines(PROD, fs.readFileSync(file, "utf8"))).toEqual([
      ["    green: placeholder", "    green: v1.1.0"],
    ]);
  });

  it("--dry-run changes nothing", () => {
    const result = bg("switch", "--file", file, "--dry-run");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("dry run: nothing changed.");
    expect(fs.readFileSync(file, "utf8")).toBe(PROD);
  });
});

describe("help and bad paths", () => {
  const bg = (...args: string[]) =>
    spawnSync(TSX, [path.join(ROOT, "cli/bg-cli.ts"), ...args], { encoding: "utf8", cwd: os.tmpdir() });

  it.each([["--help"], ["-h"], ["help"]])("%j prints the usage on stdout and exits 0", (...args) => {
    const r = bg(...args);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, `${USAGE}\n`, ""]);
  });

  it.each([
    [["release", "--help"], "release"],
    [["help", "release"], "release"],
    [["switch", "-h"], "switch"],
    [["help", "help"], "help"],
  ] as const)("%j prints that command's usage", (args, command) => {
    const r = bg(...args);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, `${commandUsage(command)}\n`, ""]);
    expect(commandUsage("release").split("\n")[0]).toBe(
      "usage: npm run bg -- release <ref> [--file PATH] [--no-git] [--dry-run]",
    );
  });

  it("a directory or a missing file as --file gets one line and exit 2", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bg-dir-"));
    const asDir = bg("status", "--file", dir);
    expect([asDir.status, asDir.stdout, asDir.stderr]).toEqual([
      2,
      "",
      `bg: --file "${dir}": is a directory, not a stack file (e.g. Pulumi.prod.yaml)\n`,
    ]);
    const missing = bg("switch", "--file", path.join(dir, "nope.yaml"));
    expect([missing.status, missing.stderr]).toEqual([
      2,
      `bg: --file "${path.join(dir, "nope.yaml")}": no such file\n`,
    ]);
  });
});

describe("a step never builds on an unmerged one", () => {
  let repo: string;
  const git = (...args: string[]) => {
    const r = spawnSync("git", args, { cwd: repo, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  const bg = (...args: string[]) =>
    spawnSync(TSX, [path.join(ROOT, "cli/bg-cli.ts"), ...args, "--file", "Pulumi.prod.yaml"], {
      encoding: "utf8",
      cwd: repo,
      env: {
        ...process.env,
        PATH: process.env.PATH,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t",
      },
    });
  beforeEach(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "bg-git-"));
    fs.writeFileSync(path.join(repo, "Pulumi.prod.yaml"), PROD);
    git("init", "-q", "-b", "main");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root");
    git("add", "Pulumi.prod.yaml");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "stack");
  });

  it("on a step's branch (bg/...): refused, nothing changed", () => {
    git("switch", "-q", "-c", "bg/release-green-v1.1.0-202612020100");
    const r = bg("switch");
    expect([r.status, r.stdout, r.stderr]).toEqual([
      1,
      "",
      "bg: HEAD is on bg/release-green-v1.1.0-202612020100, the branch of a step that is not merged yet: merge (or close) its pull request, then `git switch main && git pull`, and run this again\n",
    ]);
    expect(fs.readFileSync(path.join(repo, "Pulumi.prod.yaml"), "utf8")).toBe(PROD);
    expect(git("rev-parse", "--abbrev-ref", "HEAD")).toBe("bg/release-green-v1.1.0-202612020100");
  });

  it("with commits origin/main does not have: refused (also a dry run); from main as merged: goes ahead", () => {
    git("update-ref", "refs/remotes/origin/main", "HEAD~1");
    const message =
      "bg: HEAD (main) has 1 commit that origin/main does not have: a step builds on main as merged. Merge them first (or `git switch main && git pull`), then run this again\n";
    for (const args of [
      ["release", "v1.1.0"],
      ["switch", "--dry-run"],
    ]) {
      const r = bg(...args);
      expect([r.status, r.stderr]).toEqual([1, message]);
    }
    git("update-ref", "refs/remotes/origin/main", "HEAD");
    const ok = bg("release", "v1.1.0", "--dry-run");
    expect([ok.status, ok.stderr]).toEqual([0, ""]);
    expect(ok.stdout).toContain("dry run: nothing changed.");
  });
});
