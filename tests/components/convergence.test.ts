/**
 * Converge (one node's converge command) and Convergence (one Converge per node, in order) built on
 * their own under the one mock runtime (tests/fixtures.ts `build`): the exact command, its SSH
 * route, its stdin and triggers, which inputs are secret, and the order the nodes converge in.
 */
import * as zlib from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  convergeDigest,
  convergeEntries,
  convergeScript,
  renderConvergeBundle,
} from "../../cloud-init/converge";
import { NODE_NAMES, TOPOLOGY } from "../../cloud-init/topology";
import { Converge, Convergence, convergeCommand } from "../../components/converge";
import {
  GATE_PUBLIC_IP,
  ProgramRecording,
  SSH_PRIVATE_KEY,
  SSH_PUBLIC_KEY,
  registered,
  sshConnection,
  TYPES,
  build,
  cloudLayout,
} from "../fixtures";

const layout = cloudLayout();
const privateIps = Object.fromEntries(NODE_NAMES.map((n) => [n, layout.nodes[n].privateIp]));
const instanceIds = Object.fromEntries(NODE_NAMES.map((n) => [n, `${n}-instance`]));
const bundleOf = (node: string): string =>
  renderConvergeBundle(convergeEntries(layout, node, SSH_PUBLIC_KEY));
const commands = (r: ProgramRecording) => r.resources.filter((x) => x.type === TYPES.command);

describe("Converge", () => {
  it("installs and runs converge.sh through the jump host, the bundle on stdin, triggered by its digest and the instance", async () => {
    const bundle = bundleOf("blue");
    const r = await build(() => {
      const c = new Converge("yq-blue", {
        hostname: "yq-blue",
        bundle,
        host: "10.0.2.10",
        jumpHost: GATE_PUBLIC_IP,
        sshPrivateKey: pulumi.secret(SSH_PRIVATE_KEY),
        instanceId: "blue-instance",
      });
      return { stdout: c.stdout };
    });
    expect(registered(r)).toEqual([
      "yquant:compute:Converge yq-blue <- (root)",
      `${TYPES.command} yq-blue-converge <- yquant:compute:Converge::yq-blue`,
    ]);
    const [cmd] = commands(r);
    const text = convergeCommand("yq-blue", convergeScript());
    expect(cmd?.inputs).toEqual({
      connection: { ...sshConnection("10.0.2.10"), proxy: sshConnection(GATE_PUBLIC_IP) },
      create: text,
      update: text,
      stdin: bundle,
      triggers: [convergeDigest(bundle), "blue-instance"],
    });
    // The bundle holds the passwords, and its digest is derived from it.
    expect(cmd?.secretInputs).toEqual(["connection", "stdin", "triggers"]);
    expect(cmd?.dependsOn).toEqual([]);
    expect(r.outputs).toEqual({ stdout: "ok" });
  });

  it("connects straight to a node with a public address, after the resources it is given", async () => {
    const r = await build(() => {
      const first = new Converge("yq-green", {
        hostname: "yq-green",
        bundle: "b1",
        host: "10.0.2.11",
        jumpHost: GATE_PUBLIC_IP,
        sshPrivateKey: SSH_PRIVATE_KEY,
        instanceId: "green-instance",
      });
      const gate = new Converge("yq-gate", {
        hostname: "yq-gate",
        bundle: "b2",
        host: GATE_PUBLIC_IP,
        sshPrivateKey: SSH_PRIVATE_KEY,
        instanceId: "gate-instance",
        after: [first],
      });
      return { stdout: gate.stdout };
    });
    const gate = commands(r).find((x) => x.name === "yq-gate-converge");
    expect(gate?.inputs["connection"]).toEqual(sshConnection(GATE_PUBLIC_IP));
    expect(gate?.inputs["triggers"]).toEqual([convergeDigest("b2"), "gate-instance"]);
    expect(gate?.dependsOn).toEqual(["yquant:compute:Converge::yq-green"]);
  });

  it("embeds converge.sh as installed (its lib/ parts in place), gzipped and base64-encoded", () => {
    const text = convergeCommand("yq-blue", convergeScript());
    const payload = /^echo '([A-Za-z0-9+/=]+)' \| base64 -d \| gunzip/m.exec(text)?.[1] ?? "";
    expect(zlib.gunzipSync(Buffer.from(payload, "base64")).toString("utf8")).toBe(convergeScript());
    expect(text.split("\n").slice(-2)).toEqual([
      "sudo chmod 0755 /opt/yquant/bin/converge.sh.new </dev/null && sudo mv -f /opt/yquant/bin/converge.sh.new /opt/yquant/bin/converge.sh </dev/null",
      "sudo /opt/yquant/bin/converge.sh",
    ]);
  });
});

describe("Convergence", () => {
  const convergence = (activeColor: "blue" | "green") =>
    build(() => {
      new Convergence("yq", {
        topology: TOPOLOGY,
        layout,
        sshPublicKey: SSH_PUBLIC_KEY,
        activeColor,
        gateHost: GATE_PUBLIC_IP,
        privateIps,
        instanceIds,
        sshPrivateKey: pulumi.secret(SSH_PRIVATE_KEY),
      });
      return {};
    });

  it("converges the standby engine, then the active one, then the gate, one after the other", async () => {
    const r = await convergence("blue");
    expect(registered(r).filter((line) => !line.startsWith(TYPES.command))).toEqual([
      "yquant:compute:Convergence yq <- (root)",
      "yquant:compute:Converge yq-green <- yquant:compute:Convergence::yq",
      "yquant:compute:Converge yq-blue <- yquant:compute:Convergence::yq",
      "yquant:compute:Converge yq-gate <- yquant:compute:Convergence::yq",
    ]);
    expect(commands(r).map((x) => [x.name, x.dependsOn])).toEqual([
      ["yq-green-converge", []],
      ["yq-blue-converge", ["yquant:compute:Converge::yq-green"]],
      ["yq-gate-converge", ["yquant:compute:Converge::yq-blue"]],
    ]);
    const green = await convergence("green");
    expect(commands(green).map((x) => x.name)).toEqual([
      "yq-blue-converge",
      "yq-green-converge",
      "yq-gate-converge",
    ]);
  });

  it("gives each node its own bundle (with the ubuntu user's keys) and route: the gate directly, the engines through it", async () => {
    const r = await convergence("blue");
    for (const node of NODE_NAMES) {
      const hostname = TOPOLOGY.nodes.find((n) => n.name === node)?.hostname ?? "";
      const cmd = commands(r).find((x) => x.name === `${hostname}-converge`);
      const bundle = bundleOf(node);
      expect(bundle).toContain(" /home/ubuntu/.ssh/authorized_keys\n");
      expect(cmd?.inputs["stdin"], node).toBe(bundle);
      expect(cmd?.inputs["triggers"], node).toEqual([convergeDigest(bundle), `${node}-instance`]);
      expect(cmd?.inputs["create"], node).toBe(convergeCommand(hostname, convergeScript()));
      expect(cmd?.inputs["connection"], node).toEqual(
        node === "gate"
          ? sshConnection(GATE_PUBLIC_IP)
          : { ...sshConnection(privateIps[node] ?? ""), proxy: sshConnection(GATE_PUBLIC_IP) },
      );
    }
    expect(r.invokes).toEqual([]);
  });
});
