/**
 * A qemu-guest-agent client over the guest's virtio-serial socket: runs a shell command in a guest
 * and returns its exit code and output, so checks need no route into the guest. Each call opens its
 * own connection and resynchronises with `guest-sync-delimited` (a previous caller may have left a
 * half-read reply in the channel).
 */
import * as net from "node:net";

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * How long one agent round trip may take. A guest under software emulation on a loaded 2-core host
 * was seen to take over 30 s to answer (its vCPU gets a fifth of a core), so 30 s failed checks whose
 * commands were fine.
 */
const AGENT_REPLY_MS = 120_000;

class Channel {
  private buffer = "";
  // Lines that arrived while nobody waited: one chunk can hold a stale reply and the sync reply, and
  // dropping the second left connect() waiting for a reply that had already come.
  private readonly pending: string[] = [];
  private waiters: ((line: string) => void)[] = [];
  private failure: Error | undefined;
  constructor(private readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer
          .slice(0, i)
          .replace(/^\xff+/, "")
          .trim();
        this.buffer = this.buffer.slice(i + 1);
        if (line === "") continue;
        const waiter = this.waiters.shift();
        if (waiter) waiter(line);
        else this.pending.push(line);
      }
    });
    socket.on("error", (e) => (this.failure = e));
    socket.on("close", () => (this.failure ??= new Error("guest agent closed the connection")));
  }
  async line(timeoutMs: number): Promise<string> {
    const queued = this.pending.shift();
    if (queued !== undefined) return queued;
    if (this.failure) throw this.failure;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`guest agent: no reply in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }
  send(text: string): void {
    this.socket.write(text);
  }
  close(): void {
    this.socket.destroy();
  }
}

async function connect(socketPath: string, timeoutMs: number): Promise<Channel> {
  const socket = net.createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`guest agent: no connection in ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
  const channel = new Channel(socket);
  const id = Math.floor(Math.random() * 2 ** 31);
  try {
    channel.send(`\xff${JSON.stringify({ execute: "guest-sync-delimited", arguments: { id } })}\n`);
    for (;;) {
      const reply = parse(await channel.line(timeoutMs));
      if (reply?.["return"] === id) return channel;
    }
  } catch (e) {
    // qemu serves one client at a time on this socket: never leave it open.
    channel.close();
    throw e;
  }
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function call(channel: Channel, execute: string, args: unknown, timeoutMs: number): Promise<unknown> {
  channel.send(`${JSON.stringify({ execute, arguments: args })}\n`);
  for (;;) {
    const reply = parse(await channel.line(timeoutMs));
    if (!reply) continue;
    if (reply["error"]) throw new Error(`guest agent: ${execute}: ${JSON.stringify(reply["error"])}`);
    if ("return" in reply) return reply["return"];
  }
}

/** True when the agent answers within `timeoutMs`. */
export async function agentUp(socketPath: string, timeoutMs = 3000): Promise<boolean> {
  let channel: Channel | undefined;
  try {
    channel = await connect(socketPath, timeoutMs);
    await call(channel, "guest-ping", {}, timeoutMs);
    return true;
  } catch {
    return false;
  } finally {
    channel?.close();
  }
}

/** Runs `command` with /bin/sh -c in the guest; exit code 124 when it outlives `timeoutSeconds`. */
export async function guestExec(
  socketPath: string,
  command: string,
  timeoutSeconds = 60,
): Promise<ExecResult> {
  const channel = await connect(socketPath, AGENT_REPLY_MS);
  try {
    const started = (await call(
      channel,
      "guest-exec",
      { path: "/bin/sh", arg: ["-c", command], "capture-output": true },
      AGENT_REPLY_MS,
    )) as { pid: number };
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const st = (await call(channel, "guest-exec-status", { pid: started.pid }, AGENT_REPLY_MS)) as {
        exited: boolean;
        exitcode?: number;
        signal?: number;
        "out-data"?: string;
        "err-data"?: string;
      };
      if (st.exited) {
        const decode = (b64?: string): string => Buffer.from(b64 ?? "", "base64").toString("utf8");
        const code = st.signal !== undefined ? 128 + st.signal : (st.exitcode ?? 1);
        return { code, stdout: decode(st["out-data"]), stderr: decode(st["err-data"]) };
      }
      if (Date.now() > deadline) {
        return { code: 124, stdout: "", stderr: `still running after ${timeoutSeconds}s: ${command}` };
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    channel.close();
  }
}
