/**
 * Convergence in the lab: each node's converge bundle (cloud-init/converge.ts), rendered from a
 * Layout, fed on stdin to `converge.sh` installed under the node's root, exactly as the stack's
 * converge command installs it and feeds it over SSH. The order is the stack's: the standby engine, then the active one, then
 * the gate.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Color, Layout, NodeName, gateNode, otherColor } from "../cloud-init/layout";
import { convergeEntries, convergeScript, renderConvergeBundle } from "../cloud-init/converge";
import { Lab } from "./lab";

export interface ConvergeRun {
  readonly node: NodeName;
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** The order converge runs in: standby engine, active engine, then the gate (and any other node). */
export function convergeOrder(layout: Layout, active: Color): NodeName[] {
  const first: NodeName[] = [otherColor(active), active];
  const gate = gateNode(layout.topology);
  const rest = layout.topology.nodes.map((n) => n.name).filter((n) => !first.includes(n) && n !== gate);
  return [...first, ...rest, gate];
}

/** Runs `node`'s converge.sh with the bundle rendered from `layout` (`--check`: report only). */
export function convergeNode(
  lab: Lab,
  layout: Layout,
  node: NodeName,
  options: { check?: boolean; timeoutMs?: number } = {},
): Promise<ConvergeRun> {
  const script = path.join(lab.root(node), "opt", "yquant", "bin", "converge.sh");
  fs.mkdirSync(path.dirname(script), { recursive: true });
  fs.writeFileSync(`${script}.new`, convergeScript(), { mode: 0o755 });
  fs.renameSync(`${script}.new`, script);
  const bundle = renderConvergeBundle(convergeEntries(layout, node));
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const child = spawn(script, options.check ? ["--check"] : [], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs ?? 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ node, status: code ?? 1, stdout, stderr, ms: Math.round(performance.now() - startedAt) });
    });
    child.stdin.end(bundle);
  });
}

/** Converges every node in order; stops at the first failure (later nodes keep their files). */
export async function convergeAll(lab: Lab, layout: Layout, active: Color): Promise<ConvergeRun[]> {
  const runs: ConvergeRun[] = [];
  for (const node of convergeOrder(layout, active)) {
    const run = await convergeNode(lab, layout, node);
    runs.push(run);
    if (run.status !== 0) break;
  }
  return runs;
}
