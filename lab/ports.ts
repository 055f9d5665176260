/**
 * What `lab up` checks before it starts anything: every address the lab's services bind that is
 * taken by another process. A taken port is named in one line, instead of in a service's log.
 */
import * as net from "node:net";
import { Layout, NodeName, bindAddresses, nodeNames } from "../cloud-init/layout";
import { Lab } from "./lab";
import { nodeServices } from "./services";

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Who needs it, e.g. `gate haproxy (stats)`. */
  readonly what: string;
}

/** Every address the services of the layout bind, except those of services `running` says are up. */
export function listenersOf(layout: Layout, running: (node: NodeName, unit: string) => boolean): Listener[] {
  const out: Listener[] = [];
  for (const node of nodeNames(layout)) {
    for (const s of nodeServices(layout, node)) {
      if (s.port === null || running(node, s.unit)) continue;
      if (s.name === "haproxy") {
        const { http, https, staging, stats } = layout.ports;
        for (const [port, what] of [
          [http, "live HTTP"],
          [https, "live HTTPS"],
          [staging, "staging"],
        ] as const) {
          out.push({ host: layout.publicBind, port, what: `${node} haproxy (${what})` });
        }
        for (const host of bindAddresses(layout, node)) {
          out.push({ host, port: stats, what: `${node} haproxy (stats)` });
        }
      } else {
        for (const host of bindAddresses(layout, node))
          out.push({ host, port: s.port, what: `${node} ${s.name}` });
      }
    }
  }
  return out;
}

/** The lab's listeners whose service is not running under the lab now. */
export function labListeners(lab: Lab): Listener[] {
  return listenersOf(lab.layout, (node, unit) => lab.pid(node, unit) !== null);
}

/** Whether `host:port` can be bound now: "free", "in use", or another error's code. */
function tryBind(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (err: NodeJS.ErrnoException) =>
      resolve(err.code === "EADDRINUSE" ? "in use" : (err.code ?? "error")),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve("free")));
  });
}

/** The first listener whose address is taken, as one line; undefined when all are free. */
export async function findPortConflict(listeners: readonly Listener[]): Promise<string | undefined> {
  for (const l of listeners) {
    if ((await tryBind(l.host, l.port)) === "in use") {
      return (
        `${l.host}:${l.port} is in use by another process, and ${l.what} needs it: stop that process ` +
        "(ss -ltnp names it), or run the lab in its own network namespace (docs/lab.md)"
      );
    }
  }
  return undefined;
}
