/**
 * The client an app would use: Sentinel-aware, with the apps' users, failing fast instead of
 * queueing, so a scenario's write is either acknowledged by the master or fails at once.
 */
import Valkey from "iovalkey";
import { nodeNames } from "../../cloud-init/layout";
import { USER_NAMES } from "../../cloud-init/valkey";
import type { Lab } from "../lab";

/**
 * A Sentinel-aware client, as an app would use it: the three Sentinels, the master name, the
 * Sentinel password and the Valkey password. Retries fast and does not queue commands while
 * disconnected, so a write either lands on the master or fails at once.
 */
export function sentinelClient(lab: Lab): Valkey {
  const { layout } = lab;
  return new Valkey({
    sentinels: nodeNames(lab.layout).map((n) => ({ host: lab.address(n), port: layout.ports.sentinel })),
    name: layout.sentinel.masterName,
    sentinelUsername: USER_NAMES.app,
    sentinelPassword: layout.secrets.sentinelPassword,
    username: USER_NAMES.app,
    password: layout.secrets.valkeyPassword,
    // The apps' Sentinel user may only ask for the master's address (and hear +switch-master).
    updateSentinels: false,
    role: "master",
    enableOfflineQueue: false,
    // The apps' user may not run INFO (the ready check); a write that fails is simply not acknowledged.
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    commandTimeout: 1000,
    sentinelCommandTimeout: 500,
    retryStrategy: () => 50,
    sentinelRetryStrategy: () => 50,
    // The failover detector's subscriptions to +switch-master are not re-dialled when a Sentinel is
    // down (scenario 6 stops one); the next reconnect of the data connection makes new ones.
    sentinelReconnectStrategy: () => null,
    failoverDetector: true,
    // A demoted master answers READONLY: reconnect (through the Sentinels) and resend.
    reconnectOnError: (err: Error) => (err.message.startsWith("READONLY") ? 2 : false),
    lazyConnect: true,
  });
}

/**
 * Sends one command through a Sentinel-aware client, as an app that keeps retrying would: the client
 * is (re)created when it is missing or has given up, and each failure is simply retried by the caller.
 */
export class SentinelWriter {
  private client: Valkey | null = null;

  constructor(private readonly lab: Lab) {}

  private ensure(): Valkey {
    if (this.client === null || this.client.status === "end") {
      this.client?.disconnect();
      const c = sentinelClient(this.lab);
      c.on("error", () => undefined);
      c.connect().catch(() => undefined);
      this.client = c;
    }
    return this.client;
  }

  /** Runs `fn` with the client; throws what the client throws. */
  async with<T>(fn: (client: Valkey) => Promise<T>): Promise<T> {
    return fn(this.ensure());
  }

  /** host:port of the client's connection, or null. */
  peer(): string | null {
    return this.client ? clientPeer(this.client) : null;
  }

  close(): void {
    this.client?.disconnect();
    this.client = null;
  }
}

/** host:port the client's connection currently goes to, or null. */
export function clientPeer(client: Valkey): string | null {
  const stream = (client as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  return stream?.remoteAddress ? `${stream.remoteAddress}:${stream.remotePort ?? 0}` : null;
}
