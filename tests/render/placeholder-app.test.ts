/** The placeholder app from the rendered files, on 127.0.20.52 (blue) and 127.0.20.53 (green). */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLock, localLayout, materialise, stopChildren, tempDir } from "./helpers";

const dir = tempDir("app");
const layout = localLayout(dir, 50);
const children: ChildProcess[] = [];
const base = (node: "blue" | "green"): string => `http://${layout.nodes[node].privateIp}:${layout.ports.app}`;

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`app at ${url} did not come up`);
}

let releaseLock = (): void => undefined;

beforeAll(async () => {
  releaseLock = await acquireLock("127.0.20.52-53");
  for (const node of ["blue", "green"] as const) {
    materialise(layout, node);
    const release = path.join(dir, node, "opt/yquant/releases/r1");
    fs.mkdirSync(release, { recursive: true });
    fs.copyFileSync(path.join(dir, node, "opt/yquant/placeholder/app.py"), path.join(release, "app.py"));
    fs.writeFileSync(path.join(release, "RELEASE"), "r1\n");
    fs.symlinkSync("releases/r1", path.join(dir, node, "opt/yquant/current"));
    for (const service of ["frontend", "backend"]) {
      children.push(
        spawn("python3", [path.join(dir, node, "opt/yquant/current/app.py"), "--service", service], {
          env: { ...process.env, YQ_ROOT: path.join(dir, node), HEARTBEAT_SECONDS: "0.2" },
          stdio: ["ignore", "pipe", "pipe"],
        }),
      );
    }
  }
  await Promise.all([waitHealthy(base("blue")), waitHealthy(base("green"))]);
});

afterAll(async () => {
  await stopChildren(children);
  fs.rmSync(dir, { recursive: true, force: true });
  releaseLock();
});

describe("placeholder app", () => {
  it("GET /health answers 200 with its color and release", async () => {
    for (const node of ["blue", "green"] as const) {
      const response = await fetch(`${base(node)}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ color: node, release: "r1", status: "ok" });
    }
  });

  it("GET / names its color", async () => {
    const response = await fetch(`${base("green")}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("green");
  });

  it("POST /orders appends the id to orders.log and answers 201 with the color", async () => {
    const response = await fetch(`${base("blue")}/orders`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: "order-0001" }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ color: "blue", id: "order-0001", status: "accepted" });
    expect(fs.readFileSync(path.join(dir, "blue/var/lib/yquant/orders.log"), "utf8")).toBe(
      "order-0001 blue\n",
    );
  });

  it("refuses a POST without an id, and unknown paths", async () => {
    const bad = await fetch(`${base("blue")}/orders`, { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
    expect((await fetch(`${base("blue")}/nope`)).status).toBe(404);
  });

  it("the backend role logs a heartbeat and serves nothing", async () => {
    const backend = children[1];
    const output: string[] = [];
    backend?.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(output.join("")).toContain("app[blue/r1]: backend heartbeat");
  });

  it("a client that leaves mid-reply (HAProxy's check) is not a traceback; other errors still are", () => {
    const probe = [
      "import importlib.util, sys",
      "spec = importlib.util.spec_from_file_location('app', sys.argv[1])",
      "app = importlib.util.module_from_spec(spec); spec.loader.exec_module(app)",
      "server = app.Server.__new__(app.Server)",
      "for exc in (ConnectionResetError(104, 'reset'), BrokenPipeError(32, 'pipe'), ValueError('boom')):",
      "    try:",
      "        raise exc",
      "    except Exception:",
      "        server.handle_error(None, ('10.0.1.10', 40000))",
    ].join("\n");
    const result = spawnSync("python3", ["-c", probe, path.join(dir, "blue/opt/yquant/current/app.py")], {
      encoding: "utf8",
      env: { ...process.env, YQ_ROOT: path.join(dir, "blue") },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.match(/Traceback/g)).toHaveLength(1);
    expect(result.stderr).toContain("ValueError: boom");
    expect(result.stderr).not.toMatch(/ConnectionResetError|BrokenPipeError/);
  });

  it("sends each response (status line, headers and body) in one send, so a crash cannot cut it in two", () => {
    // SOCK_SEQPACKET keeps message boundaries: each send() of the handler arrives as one message.
    const probe = String.raw`
import importlib.util, socket, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
app = importlib.util.module_from_spec(spec); spec.loader.exec_module(app)
order = b'{"id": "sends-1"}'
requests = [b"GET / HTTP/1.1\r\n", b"GET /health HTTP/1.1\r\n", b"GET /nope HTTP/1.1\r\n",
            b"POST /orders HTTP/1.1\r\nContent-Length: %d\r\n" % len(order)]
for request in requests:
    client, served = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    body = order if request.startswith(b"POST") else b""
    client.send(request + b"Host: x\r\nConnection: close\r\n\r\n" + body)
    app.Handler(served, ("10.0.1.10", 40000), None)
    served.close()
    messages = []
    while chunk := client.recv(65536):
        messages.append(chunk)
    head, _, body = b"".join(messages).partition(b"\r\n\r\n")
    print(len(messages), head.split(b"\r\n", 1)[0].decode(), len(body) > 0)
`;
    const result = spawnSync("python3", ["-c", probe, path.join(dir, "blue/opt/yquant/current/app.py")], {
      encoding: "utf8",
      env: { ...process.env, YQ_ROOT: path.join(dir, "blue") },
      timeout: 10_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      "1 HTTP/1.1 200 OK True",
      "1 HTTP/1.1 200 OK True",
      "1 HTTP/1.1 404 Not Found True",
      "1 HTTP/1.1 201 Created True",
    ]);
  });
});
