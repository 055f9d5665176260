/**
 * `npm run lab -- partition <node>` / `heal <node>`: cut one node off from the others, as a network
 * partition would, and join it again.
 *
 * The lab's nodes share one host; each has its own loopback address (the topology table's
 * `labAddress`), and Valkey and Sentinel leave from it (`bind-source-addr`, cloud-init/valkey.ts). A
 * partition drops every packet between that address and the other nodes' addresses, in both
 * directions, with iptables rules in a chain of its own. Established connections stall as they would
 * on a real partition (nothing is reset). Clients from 127.0.0.1 (the scenarios' writers, the lab's
 * probes) still reach every node: they stand for an app that can reach both sides.
 *
 * The rules are written only inside a named network namespace (`ip netns exec <name> ...`, the way
 * the lab and its tests are run on a shared machine): the lab never changes the host's own firewall.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { Layout, NodeName, nodeNames } from "../cloud-init/layout";

/** The chain that holds every partition rule of the lab (jumped to from INPUT). */
export const PARTITION_CHAIN = "YQ-LAB-PARTITION";

/** A refused partition or heal (nothing was changed). */
export class PartitionError extends Error {}

/** The `iptables -A` arguments (without `-A <chain>`) that cut `node` off: both directions, per peer. */
export function partitionRules(layout: Layout, node: NodeName): string[][] {
  const self = layout.nodes[node].privateIp;
  return nodeNames(layout)
    .filter((n) => n !== node)
    .flatMap((peer) => {
      const other = layout.nodes[peer].privateIp;
      return [
        ["-s", `${self}/32`, "-d", `${other}/32`, "-j", "DROP"],
        ["-s", `${other}/32`, "-d", `${self}/32`, "-j", "DROP"],
      ];
    });
}

/**
 * The name of the `ip netns` namespace this process runs in (its `/run/netns/<name>` is the same
 * namespace as `/proc/self/ns/net`), or null outside every named namespace.
 */
export function currentNetns(runDir = "/run/netns"): string | null {
  try {
    const self = fs.statSync("/proc/self/ns/net");
    for (const name of fs.readdirSync(runDir)) {
      const st = fs.statSync(`${runDir}/${name}`);
      if (st.ino === self.ino && st.dev === self.dev) return name;
    }
  } catch {
    return null;
  }
  return null;
}

function iptables(args: string[]): boolean {
  try {
    execFileSync("iptables", ["-w", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new PartitionError("iptables not found: apt-get install iptables");
    }
    return false;
  }
}

function refuseOutsideOwnNetns(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new PartitionError("partition/heal need root (iptables) inside the lab's network namespace");
  }
  if (currentNetns() === null) {
    throw new PartitionError(
      "partition/heal change firewall rules, so they run only inside a named network namespace " +
        "(ip netns add yq-lab; ip netns exec yq-lab ip link set lo up; ip netns exec yq-lab npm run lab -- ...), " +
        "never in the host's",
    );
  }
}

function ensureChain(): void {
  if (!iptables(["-S", PARTITION_CHAIN])) {
    if (!iptables(["-N", PARTITION_CHAIN])) throw new PartitionError(`iptables -N ${PARTITION_CHAIN} failed`);
  }
  if (!iptables(["-C", "INPUT", "-j", PARTITION_CHAIN])) {
    if (!iptables(["-I", "INPUT", "1", "-j", PARTITION_CHAIN])) {
      throw new PartitionError(`iptables -I INPUT -j ${PARTITION_CHAIN} failed`);
    }
  }
}

/** Cuts `node` off from the other nodes (idempotent). */
export function partition(layout: Layout, node: NodeName): void {
  refuseOutsideOwnNetns();
  ensureChain();
  for (const rule of partitionRules(layout, node)) {
    if (!iptables(["-C", PARTITION_CHAIN, ...rule])) {
      if (!iptables(["-A", PARTITION_CHAIN, ...rule])) {
        throw new PartitionError(`iptables -A ${PARTITION_CHAIN} ${rule.join(" ")} failed`);
      }
    }
  }
}

/** Joins `node` again: removes its rules (idempotent; a node that is not cut off is left alone). */
export function heal(layout: Layout, node: NodeName): void {
  refuseOutsideOwnNetns();
  for (const rule of partitionRules(layout, node)) {
    for (let i = 0; i < 16 && iptables(["-C", PARTITION_CHAIN, ...rule]); i += 1) {
      iptables(["-D", PARTITION_CHAIN, ...rule]);
    }
  }
}

/** The nodes whose rules are all in force now (empty where the chain does not exist or cannot be read). */
export function partitionedNodes(layout: Layout): NodeName[] {
  if (currentNetns() === null) return [];
  let listing = "";
  try {
    listing = execFileSync("iptables", ["-w", "-S", PARTITION_CHAIN], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return [];
  }
  const lines = new Set(listing.split("\n").map((l) => l.trim()));
  return nodeNames(layout).filter((n) =>
    partitionRules(layout, n).every((r) => lines.has(`-A ${PARTITION_CHAIN} ${r.join(" ")}`)),
  );
}

/** Heals every node that is cut off (the scenarios' baseline; `down`). */
export function healAll(layout: Layout): void {
  for (const n of partitionedNodes(layout)) heal(layout, n);
}
