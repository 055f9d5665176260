import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NODE_NAMES } from "../../cloud-init/layout";
import { USAGE, parseArgs, renderTo } from "../../tools/render-cli";
import { renderHaproxyConfig, renderUserData } from "../../cloud-init/user-data";
import { parseWriteFiles } from "../../cloud-init/write-files";
import { REPO, cloudLayout, run, tempDir } from "./helpers";

const TSX = path.join(REPO, "node_modules/.bin/tsx");
const CLI = path.join(REPO, "tools/render-cli.ts");

describe("render command", () => {
  const dir = tempDir("cli");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes each node's user data and every write_files entry (haproxy.cfg among them)", () => {
    const out = path.join(dir, "api");
    const layout = cloudLayout();
    const written = renderTo(out, layout);
    for (const node of NODE_NAMES) {
      const userData = fs.readFileSync(path.join(out, node, "user-data.yaml"), "utf8");
      expect(userData).toBe(renderUserData(layout, node));
      for (const file of parseWriteFiles(userData)) {
        const target = path.join(out, node, "files", file.path);
        expect(fs.readFileSync(target, "utf8")).toBe(file.content);
        expect((fs.statSync(target).mode & 0o777).toString(8).padStart(4, "0")).toBe(file.permissions);
      }
    }
    expect(fs.readFileSync(path.join(out, "gate/files/etc/haproxy/haproxy.cfg"), "utf8")).toBe(
      renderHaproxyConfig(layout),
    );
    expect(written).toContain("gate/files/opt/yquant/bin/switch-active.sh");
  });

  it("runs as `npm run render -- --out <dir>` with the sample layout", () => {
    const out = path.join(dir, "cli");
    const result = run(TSX, [CLI, "--out", out], 60_000);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^render: wrote \d+ files under /);
    expect(fs.readFileSync(path.join(out, "gate/user-data.yaml"), "utf8")).toBe(
      renderUserData(cloudLayout(), "gate"),
    );
  });

  it("takes a layout JSON file over the sample", () => {
    const out = path.join(dir, "json");
    const file = path.join(dir, "layout.json");
    fs.writeFileSync(file, JSON.stringify({ adminCidrs: ["198.51.100.0/24"] }));
    const result = run(TSX, [CLI, "--out", out, "--layout", file], 60_000);
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, "gate/files/etc/haproxy/haproxy.cfg"), "utf8")).toContain(
      "acl yq_admin src 198.51.100.0/24 127.0.0.0/8",
    );
  });

  it.each([
    [[], "render: --out DIR is required"],
    [["--out"], "render: --out needs a value: DIR"],
    [
      ["--out", "x", "--colour", "blue"],
      'render: unknown option "--colour": allowed --out DIR, --layout FILE, -h/--help',
    ],
    [["--out", "-rf"], 'render: invalid --out "-rf": values may not start with "-"'],
    [["--out=-rf"], 'render: invalid --out "-rf": values may not start with "-"'],
    [["--out", "x", "extra"], 'render: unexpected argument "extra"'],
    [
      ["--out", "x", "--layout", "/nonexistent/layout.json"],
      'render: cannot read --layout file "/nonexistent/layout.json": no such file',
    ],
    [["--out", "x", "--layout", "/tmp"], 'render: cannot read --layout file "/tmp": it is a directory'],
  ])("refuses %j with exit 2 and one line", (args, message) => {
    const result = run(TSX, [CLI, ...args], 60_000);
    expect([result.status, result.stdout, result.stderr]).toEqual([2, "", `${message}\n`]);
    expect(fs.existsSync(path.join(process.cwd(), "x"))).toBe(false);
    expect(fs.existsSync(path.join(process.cwd(), "-rf"))).toBe(false);
  });

  it("refuses an --out that is a file, or under one, in one line, writing nothing", () => {
    const file = path.join(dir, "a-file");
    fs.writeFileSync(file, "keep me\n");
    const onFile = run(TSX, [CLI, "--out", file], 60_000);
    expect([onFile.status, onFile.stdout, onFile.stderr]).toEqual([
      2,
      "",
      `render: --out "${file}": exists and is not a directory\n`,
    ]);
    const under = run(TSX, [CLI, "--out", path.join(file, "sub")], 60_000);
    expect([under.status, under.stderr]).toEqual([
      2,
      `render: --out "${path.join(file, "sub")}": a parent of it is a file, not a directory\n`,
    ]);
    expect(fs.readFileSync(file, "utf8")).toBe("keep me\n");
  });

  it.each([["--help"], ["-h"], ["help"]])("%j prints the usage on stdout and exits 0", (arg) => {
    const result = run(TSX, [CLI, arg], 60_000);
    expect([result.status, result.stdout, result.stderr]).toEqual([0, `${USAGE}\n`, ""]);
    expect(USAGE.split("\n")[0]).toBe("usage: npm run render -- --out <dir> [--layout <layout.json>]");
  });

  it("parseArgs returns the options", () => {
    expect(parseArgs(["--out", "o"])).toEqual({ out: "o" });
    expect(parseArgs(["--out", "o", "--layout", "l.json"])).toEqual({ out: "o", layoutFile: "l.json" });
    expect(parseArgs(["help"])).toBe("help");
  });
});
