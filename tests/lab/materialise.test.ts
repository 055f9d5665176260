/**
 * Unit-level checks of the lab that start no process: the lab's Layout, and that the files the lab
 * writes are byte for byte the `write_files` entries of each node's own user data.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PORTS, NODE_NAMES, USER_SECRETS } from "../../cloud-init/layout";
import { renderUserData } from "../../cloud-init/user-data";
import { renderNodeFiles } from "../../cloud-init/node-files";
import { parseWriteFiles, readWriteFiles } from "../../cloud-init/write-files";
import {
  LAB_ADDRESSES,
  REPO_ROOT,
  SERVICE_CONTROL,
  labDir,
  labLayout,
  labPorts,
  labSecrets,
} from "../../lab/layout";
import { materialiseNode, writeEntries } from "../../lab/materialise";

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "yq-lab-unit-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("lab layout", () => {
  it("puts each node on its own loopback address under <lab dir>/<node>", () => {
    const layout = labLayout({ dir, privilegedPorts: true });
    expect(layout.roots).toEqual({ gate: `${dir}/gate`, blue: `${dir}/blue`, green: `${dir}/green` });
    expect(layout.nodes).toEqual({
      gate: { privateIp: "127.0.10.1", loopback: "127.0.10.1" },
      blue: { privateIp: "127.0.10.2", loopback: "127.0.10.2" },
      green: { privateIp: "127.0.10.3", loopback: "127.0.10.3" },
    });
    expect(layout.publicBind).toBe(LAB_ADDRESSES.gate);
    expect(layout.adminCidrs).toEqual(["127.0.0.0/8"]);
    expect(layout.production).toBe(false);
    expect(layout.serviceControl).toBe(SERVICE_CONTROL);
    expect(path.isAbsolute(layout.serviceControl)).toBe(true);
    expect(layout.drainSeconds).toBe(2);
  });

  it("keeps the port map, moving 80/443 by +10000 only without privileged ports", () => {
    expect(labPorts(true)).toEqual(DEFAULT_PORTS);
    expect(labPorts(false)).toEqual({ ...DEFAULT_PORTS, http: 10080, https: 10443 });
  });

  it("generates the secrets once per lab dir, mode 0600", () => {
    const first = labSecrets(dir);
    const second = labSecrets(dir);
    expect(second).toEqual(first);
    expect(first.valkeyPassword).toMatch(/^[0-9a-f]{48}$/);
    expect(first.sentinelPassword).toMatch(/^[0-9a-f]{48}$/);
    expect(first.valkeyPassword).not.toBe(first.sentinelPassword);
    expect(fs.statSync(path.join(dir, "secrets.json")).mode & 0o777).toBe(0o600);
  });

  it("does not create secrets when asked not to", () => {
    const other = path.join(dir, "none");
    expect(labSecrets(other, false)).toEqual({
      valkeyPassword: "",
      sentinelPassword: "",
      users: Object.fromEntries(USER_SECRETS.map((key) => [key, ""])),
      tlsPem: "",
    });
    expect(fs.existsSync(other)).toBe(false);
  });

  it("honours YQ_LAB_DIR", () => {
    expect(labDir({ YQ_LAB_DIR: "/tmp/x-lab" })).toBe("/tmp/x-lab");
    expect(labDir({})).toBe(path.resolve(__dirname, "../../.lab"));
  });
});

describe("materialised files equal the parsed write_files", () => {
  const layoutFor = () => labLayout({ dir, privilegedPorts: false });

  for (const node of NODE_NAMES) {
    it(`${node}: every write_files entry is written byte for byte with its mode`, () => {
      const layout = layoutFor();
      const result = materialiseNode(layout, node);
      const userData = renderUserData(layout, node);
      expect(result.userData).toBe(userData);
      // Checked against js-yaml's own reading of the entries and the renderer's own records.
      const raw = (yaml.load(userData) as { write_files: { path: string }[] }).write_files;
      const ours = readWriteFiles(userData);
      const theirs = parseWriteFiles(userData);
      expect(ours.map((f) => f.path)).toEqual(raw.map((f) => f.path));
      expect(theirs).toEqual(renderNodeFiles(layout, node));
      for (const [i, file] of ours.entries()) {
        expect(file.path.startsWith(`${layout.roots[node]}/`)).toBe(true);
        const onDisk = fs.readFileSync(file.path);
        expect(onDisk.equals(file.content)).toBe(true);
        expect(onDisk.equals(Buffer.from(theirs[i]?.content ?? "", "utf8"))).toBe(true);
        expect(fs.statSync(file.path).mode & 0o7777).toBe(parseInt(theirs[i]?.permissions ?? "", 8));
      }
      // Nothing but those files (and their directories) was written under the node's root.
      const written: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else written.push(p);
        }
      };
      walk(layout.roots[node]);
      expect(written.sort()).toEqual(ours.map((f) => f.path).sort());
    });
  }

  it("node.env points the scripts at the lab shim, without a host firewall", () => {
    const layout = layoutFor();
    for (const node of NODE_NAMES) {
      materialiseNode(layout, node);
      const env = fs.readFileSync(path.join(layout.roots[node], "etc/yquant/node.env"), "utf8");
      expect(env).toContain(`SERVICE_CONTROL='${SERVICE_CONTROL}'`);
      expect(env).toContain("HOST_FIREWALL='off'");
      expect(env).toContain(`NODE_IP='${LAB_ADDRESSES[node]}'`);
      expect(env).toContain("HTTP_PORT='10080'");
    }
  });

  it("refuses a write_files entry outside the node root, writing nothing", () => {
    const root = path.join(dir, "refuse");
    const files = readWriteFiles(
      `#cloud-config\nwrite_files:\n- path: ${root}/ok\n  content: x\n- path: ${dir}/escape\n  content: x\n`,
    );
    expect(() => writeEntries(root, files)).toThrow(
      `write_files entry ${dir}/escape is outside the node root ${root}`,
    );
    expect(fs.existsSync(path.join(root, "ok"))).toBe(false);
  });

  it("decodes permissions and encodings as cloud-init does", () => {
    const text = [
      "#cloud-config",
      "write_files:",
      "- path: /a",
      "  content: aGVsbG8=",
      "  encoding: b64",
      "  permissions: '0600'",
      "- path: /b",
      "  content: plain",
      "- path: /c",
      "  content: x",
      "  permissions: 0755",
    ].join("\n");
    const files = readWriteFiles(text);
    expect(files.map((f) => [f.path, f.content.toString(), f.mode])).toEqual([
      ["/a", "hello", 0o600],
      ["/b", "plain", 0o644],
      ["/c", "x", 0o755],
    ]);
    expect(() => readWriteFiles("write_files: []")).toThrow("does not start with #cloud-config");
  });
});

describe("service-control shim", () => {
  it("passes shellcheck, with the unit starters it sources", () => {
    // -x follows the `source` of lab/service-units.sh, as the shim runs it; cwd is the repository.
    expect(execFileSync("shellcheck", ["-x", SERVICE_CONTROL], { encoding: "utf8", cwd: REPO_ROOT })).toBe(
      "",
    );
  });

  it("refuses to run without YQ_ROOT, and names the verbs on bad usage", () => {
    const shim = (args: string[], env: NodeJS.ProcessEnv): { status: number; stderr: string } => {
      try {
        execFileSync(SERVICE_CONTROL, args, { env, stdio: "pipe" });
        return { status: 0, stderr: "" };
      } catch (err) {
        const e = err as { status: number; stderr: Buffer };
        return { status: e.status, stderr: e.stderr.toString() };
      }
    };
    const noRoot = shim(["start", "haproxy"], { PATH: process.env.PATH ?? "" });
    expect(noRoot.status).toBe(1);
    expect(noRoot.stderr).toContain("YQ_ROOT is not set");
    const bad = shim(["frobnicate", "haproxy"], { ...process.env, YQ_ROOT: dir });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("start|stop|restart|reload|is-active|enable|daemon-reload");
  });

  it("reports a unit that never ran as inactive (exit 3)", () => {
    let status = 0;
    let out = "";
    try {
      out = execFileSync(SERVICE_CONTROL, ["is-active", "valkey-server"], {
        env: { ...process.env, YQ_ROOT: dir },
        encoding: "utf8",
      });
    } catch (err) {
      status = (err as { status: number }).status;
      out = (err as { stdout: string }).stdout;
    }
    expect(status).toBe(3);
    expect(out.trim()).toBe("inactive");
  });
});
