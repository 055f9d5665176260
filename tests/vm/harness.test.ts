/**
 * The VM harness's pure parts (no VM is booted here; `npm run vm -- test` boots them): each node's seed
 * carries the very user data the program passes in metadata.user_data, the pinned addresses reach
 * dnsmasq by MAC, the pipeline's commands are the program's, and SSH goes through the gate.
 */
import * as crypto from "node:crypto";
import * as zlib from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { dnsmasqArgs, gatewayFor, macFor, qemuArgs, seedFiles } from "../../vm/machine";
import { sshArgs } from "../../vm/guests";
import { loadProgram, pipelineCommands } from "../../vm/program";
import { userDataPackages } from "../../vm/stack";
import { parseNodes } from "../../vm/cli";
import { ROLES } from "../../cloud-init/topology";

const privateKey = crypto
  .generateKeyPairSync("ed25519")
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();
const SSH_PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVmVHVzdHZta2V5MDEyMzQ1Njc4OWFiY2RlZjAxMjM0 vm";

const view = loadProgram(
  {
    sshPublicKey: SSH_PUBLIC,
    sshPrivateKey: privateKey,
    adminCidr: "10.0.1.250/32",
    activeColor: "blue",
    releases: { blue: "placeholder", green: "v2" },
    valkeyPassword: "VmValkeyPassword0123456789abcdef",
    sentinelPassword: "VmSentinelPassword0123456789abcd",
  },
  () => {
    vi.resetModules();
    return import("../../index");
  },
);

describe("vm harness", () => {
  it("boots each node with the program's metadata.user_data, byte for byte", async () => {
    const v = await view;
    expect(Object.keys(v.nodes)).toEqual(["gate", "blue", "green"]);
    for (const node of Object.values(v.nodes)) {
      const seed = seedFiles(node, `yq-${node.name}-1`);
      expect(seed.userData.equals(node.userDataBytes)).toBe(true);
      expect([...seed.userData.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
      expect(zlib.gunzipSync(seed.userData).toString("utf8")).toBe(node.userData);
      expect(node.userData.startsWith("#cloud-config\n")).toBe(true);
      expect(seed.metaData).toBe(
        `instance-id: yq-${node.name}-1\nlocal-hostname: ${node.hostname}\npublic-keys:\n  - "${SSH_PUBLIC}"\n`,
      );
    }
    expect(v.nodes.gate.privateIp).toBe("10.0.1.10");
    expect(userDataPackages(v.nodes.gate.userData)).toEqual([...ROLES.gate.packages]);
    expect(userDataPackages(v.nodes.gate.userData)).toContain("haproxy");
    expect(v.nodes.blue.userData).toContain("hostname: yq-blue");
  });

  it("gives dnsmasq each pinned address by MAC, one static range per subnet", async () => {
    const v = await view;
    expect(macFor("10.0.2.11")).toBe("52:54:00:00:02:0b");
    expect(gatewayFor("10.0.2.11")).toBe("10.0.2.1");
    expect(() => macFor("10.0.2")).toThrow('macFor: "10.0.2" is not an IPv4 address');
    const args = dnsmasqArgs(Object.values(v.nodes), "/run/x");
    expect(args.filter((a) => a.startsWith("--dhcp-"))).toEqual([
      "--dhcp-authoritative",
      "--dhcp-leasefile=/run/x/dnsmasq.leases",
      "--dhcp-option=option:dns-server",
      "--dhcp-range=10.0.1.0,static,255.255.255.0,infinite",
      "--dhcp-range=10.0.2.0,static,255.255.255.0,infinite",
      "--dhcp-host=52:54:00:00:01:0a,10.0.1.10,yq-gate,infinite",
      "--dhcp-host=52:54:00:00:02:0a,10.0.2.10,yq-blue,infinite",
      "--dhcp-host=52:54:00:00:02:0b,10.0.2.11,yq-green,infinite",
    ]);
  });

  it("runs qemu with 1 GiB, a 256 MB translation cache under TCG, the seed and the repository", async () => {
    const v = await view;
    const args = qemuArgs(v.nodes.green, "green", "/r/green", "/img", "tcg");
    expect(args.slice(args.indexOf("-accel"), args.indexOf("-accel") + 2)).toEqual([
      "-accel",
      "tcg,tb-size=256",
    ]);
    expect(args[args.indexOf("-m") + 1]).toBe("1024");
    expect(args.filter((a) => a.startsWith("file="))).toEqual([
      "file=/r/green/disk.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap",
      "file=/r/green/seed.iso,if=virtio,format=raw,readonly=on",
      "file=/img/repo.iso,if=virtio,format=raw,readonly=on",
    ]);
    expect(args).toContain("virtio-net-pci,netdev=n0,mac=52:54:00:00:02:0b");
  });

  it("gives the gate one blank disk per block volume the program attaches to it (the token volume)", async () => {
    const v = await view;
    expect(v.nodes.gate.blockVolumeGbs).toEqual([50]);
    expect(v.nodes.blue.blockVolumeGbs).toEqual([]);
    expect(v.nodes.green.blockVolumeGbs).toEqual([]);
    const args = qemuArgs(v.nodes.gate, "gate", "/r/gate", "/img", "tcg");
    expect(args.filter((a) => a.startsWith("file="))).toEqual([
      "file=/r/gate/disk.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap",
      "file=/r/gate/seed.iso,if=virtio,format=raw,readonly=on",
      "file=/img/repo.iso,if=virtio,format=raw,readonly=on",
      "file=/r/gate/volume-0.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap",
    ]);
  });

  it("takes the release and switch commands from the program, and reaches engines through the gate", async () => {
    const v = await view;
    const cmds = pipelineCommands(v);
    expect(cmds.release.green.create.endsWith("sudo /opt/yquant/bin/deploy.sh v2")).toBe(true);
    expect(cmds.switch.create).toContain("sudo /opt/yquant/bin/switch-active.sh blue --drain 30");
    expect(cmds.switch.user).toBe("ubuntu");
    const gateArgs = sshArgs(v, "/k", cmds.switch);
    expect(gateArgs[gateArgs.length - 1]).toBe("ubuntu@10.0.1.10");
    const greenArgs = sshArgs(v, "/k", cmds.release.green);
    expect(greenArgs[greenArgs.length - 1]).toBe("ubuntu@10.0.2.11");
    expect(greenArgs.find((a) => a.startsWith("ProxyCommand="))).toMatch(/ -W %h:%p ubuntu@10\.0\.1\.10$/);
  });

  it("refuses an unknown node name, naming the allowed ones", () => {
    expect(parseNodes("gate,blue")).toEqual(["gate", "blue"]);
    expect(() => parseNodes("gate,red")).toThrow('--nodes: unknown node "red"; allowed: gate, blue, green');
  });
});
