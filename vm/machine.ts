/**
 * The VMs' machinery: the work directory, the private network (a bridge in the network namespace
 * NETNS with each subnet's .1, dnsmasq handing out the pinned addresses by MAC as OCI's DHCP does),
 * the NoCloud seed (the program's user data, byte for byte), and qemu (software emulation unless
 * hardware KVM is there). Pure builders (macFor, dnsmasqArgs, qemuArgs, seedFiles) are unit-tested in
 * tests/vm; the rest runs them. Processes are stopped by their own pid files only.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { NodeName } from "../cloud-init/layout";
import type { ProgramNode } from "./program";

export const NETNS = "vm-lab";
export const BRIDGE = "yqbr";
/** A client address on the gate's subnet that the stack's adminCidrs names (staging on 8080). */
export const ADMIN_ADDRESS = "10.0.1.250";
/** qemu settings that held on 2 shared cores: 1 GiB guests, a 256 MB translation cache. */
export const GUEST_MEMORY_MB = 1024;
export const TB_SIZE_MB = 256;

export const REPO = path.resolve(__dirname, "..");
export function workDir(): string {
  return process.env["VM_DIR"] ?? path.join(REPO, ".vmlab");
}
export function runDir(node: NodeName): string {
  return path.join(workDir(), "run", node);
}
export const imageDir = (): string => path.join(workDir(), "image");

export function log(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[vm ${t}] ${message}\n`);
}

/** A stable MAC from the address's last three octets. */
export function macFor(ip: string): string {
  const octets = ip.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`macFor: "${ip}" is not an IPv4 address`);
  }
  return `52:54:00:${octets
    .slice(1)
    .map((o) => o.toString(16).padStart(2, "0"))
    .join(":")}`;
}

/** The .1 of the node's /24, as an OCI subnet's gateway. */
export function gatewayFor(ip: string): string {
  return `${ip.split(".").slice(0, 3).join(".")}.1`;
}

export function dnsmasqArgs(nodes: readonly ProgramNode[], dir: string): string[] {
  const subnets = [...new Set(nodes.map((n) => gatewayFor(n.privateIp)))];
  return [
    "--conf-file=/dev/null",
    "--port=0",
    `--interface=${BRIDGE}`,
    "--bind-interfaces",
    "--dhcp-authoritative",
    `--dhcp-leasefile=${dir}/dnsmasq.leases`,
    `--pid-file=${dir}/dnsmasq.pid`,
    `--log-facility=${dir}/dnsmasq.log`,
    "--log-dhcp",
    "--dhcp-option=option:dns-server",
    ...subnets.map((gw) => `--dhcp-range=${gw.slice(0, -2)}.0,static,255.255.255.0,infinite`),
    ...nodes.map((n) => `--dhcp-host=${macFor(n.privateIp)},${n.privateIp},${n.hostname},infinite`),
  ];
}

/** The NoCloud seed: the user data unchanged, the SSH key as OCI's metadata gives it, DHCP. */
export function seedFiles(
  node: ProgramNode,
  instanceId: string,
): { userData: Buffer; metaData: string; networkConfig: string } {
  return {
    // The program's own bytes (gzip), not the harness's gunzipped reading: cloud-init unpacks them.
    userData: node.userDataBytes,
    metaData: [
      `instance-id: ${instanceId}`,
      `local-hostname: ${node.hostname}`,
      "public-keys:",
      `  - ${JSON.stringify(node.sshAuthorizedKeys.trim())}`,
      "",
    ].join("\n"),
    networkConfig: [
      "version: 2",
      "ethernets:",
      "  eth0:",
      `    match: {macaddress: "${macFor(node.privateIp)}"}`,
      "    set-name: eth0",
      "    dhcp4: true",
      "",
    ].join("\n"),
  };
}

export type Accel = "kvm" | "tcg";

/** Hardware KVM only (kvm_intel/kvm_amd): a nested paravirtual /dev/kvm stalls stock kernels. */
export function detectAccel(): Accel {
  const hw = fs.existsSync("/sys/module/kvm_intel") || fs.existsSync("/sys/module/kvm_amd");
  return fs.existsSync("/dev/kvm") && hw ? "kvm" : "tcg";
}

export function qemuArgs(
  node: ProgramNode,
  name: NodeName,
  dir: string,
  image: string,
  accel: Accel,
): string[] {
  const machine =
    accel === "kvm"
      ? ["-machine", "q35", "-accel", "kvm", "-cpu", "host"]
      : ["-machine", "q35", "-accel", `tcg,tb-size=${TB_SIZE_MB}`, "-cpu", "max"];
  return [
    "-name",
    `yq-${name}`,
    ...machine,
    "-smp",
    "1",
    "-m",
    String(GUEST_MEMORY_MB),
    "-kernel",
    `${image}/vmlinuz`,
    "-initrd",
    `${image}/initrd.img`,
    "-append",
    "root=/dev/vda rw console=ttyS0 net.ifnames=0",
    "-drive",
    `file=${dir}/disk.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap`,
    "-drive",
    `file=${dir}/seed.iso,if=virtio,format=raw,readonly=on`,
    "-drive",
    `file=${image}/repo.iso,if=virtio,format=raw,readonly=on`,
    ...node.blockVolumeGbs.flatMap((_, i) => [
      "-drive",
      `file=${dir}/volume-${i}.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap`,
    ]),
    "-netdev",
    `tap,id=n0,ifname=tap-${name},script=no,downscript=no`,
    "-device",
    `virtio-net-pci,netdev=n0,mac=${macFor(node.privateIp)}`,
    "-object",
    "rng-random,filename=/dev/urandom,id=rng0",
    "-device",
    "virtio-rng-pci,rng=rng0",
    "-chardev",
    `socket,id=qga0,path=${dir}/qga.sock,server=on,wait=off`,
    "-device",
    "virtio-serial-pci",
    "-device",
    "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
    "-serial",
    `file:${dir}/serial.log`,
    "-display",
    "none",
    "-pidfile",
    `${dir}/qemu.pid`,
    "-daemonize",
  ];
}

export function sh(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}
export function trySh(cmd: string, args: readonly string[]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

export function readPid(file: string): number | undefined {
  const pid = Number(fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "");
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The bridge with each subnet's .1 and the admin address, one tap per node, dnsmasq. */
export function netUp(nodes: readonly ProgramNode[], names: readonly NodeName[]): void {
  const ip = (...args: string[]): boolean => trySh("ip", args);
  if (!ip("link", "show", BRIDGE)) sh("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  sh("ip", ["link", "set", "lo", "up"]);
  const have = sh("ip", ["-4", "-o", "addr", "show", "dev", BRIDGE]);
  for (const addr of [...new Set(nodes.map((n) => `${gatewayFor(n.privateIp)}/24`)), `${ADMIN_ADDRESS}/24`]) {
    if (!have.includes(` ${addr} `)) sh("ip", ["addr", "add", addr, "dev", BRIDGE]);
  }
  for (const name of names) {
    if (!ip("link", "show", `tap-${name}`)) sh("ip", ["tuntap", "add", "dev", `tap-${name}`, "mode", "tap"]);
    sh("ip", ["link", "set", `tap-${name}`, "master", BRIDGE, "up"]);
  }
  sh("ip", ["link", "set", BRIDGE, "up"]);
  sh("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
  const dir = path.join(workDir(), "run");
  fs.mkdirSync(dir, { recursive: true });
  if (!alive(readPid(path.join(dir, "dnsmasq.pid")))) sh("dnsmasq", dnsmasqArgs(nodes, dir));
}

/** Boots (or powers on again, keeping its disk) one node; returns qemu's pid. */
export function boot(node: ProgramNode, name: NodeName, fresh: boolean): number {
  const dir = runDir(name);
  if (alive(readPid(path.join(dir, "qemu.pid")))) throw new Error(`${name} is already running`);
  if (fresh) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const seed = seedFiles(node, `yq-${name}-${Date.now()}`);
    fs.writeFileSync(path.join(dir, "user-data"), seed.userData);
    fs.writeFileSync(path.join(dir, "meta-data"), seed.metaData);
    fs.writeFileSync(path.join(dir, "network-config"), seed.networkConfig);
    sh("cloud-localds", [
      "-N",
      `${dir}/network-config`,
      `${dir}/seed.iso`,
      `${dir}/user-data`,
      `${dir}/meta-data`,
    ]);
    sh("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-F",
      "raw",
      "-b",
      `${imageDir()}/base.raw`,
      `${dir}/disk.qcow2`,
    ]);
    // The program's block volumes, blank as OCI attaches a new one (sparse: no space until written).
    node.blockVolumeGbs.forEach((gbs, i) =>
      sh("qemu-img", ["create", "-q", "-f", "qcow2", `${dir}/volume-${i}.qcow2`, `${gbs}G`]),
    );
  }
  fs.rmSync(path.join(dir, "qemu.pid"), { force: true });
  fs.writeFileSync(path.join(dir, "t-start"), String(Date.now()));
  sh("qemu-system-x86_64", qemuArgs(node, name, dir, imageDir(), detectAccel()));
  const pid = readPid(path.join(dir, "qemu.pid"));
  if (pid === undefined) throw new Error(`${name}: qemu wrote no pid file`);
  return pid;
}

/** Hard power-off: SIGKILL to the node's qemu. */
export function powerOff(name: NodeName): void {
  const pid = readPid(path.join(runDir(name), "qemu.pid"));
  if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
}

/** Stops every qemu and dnsmasq by pid file, then removes the namespace (from outside it). */
export function stopAll(names: readonly NodeName[]): void {
  for (const name of names) {
    const pid = readPid(path.join(runDir(name), "qemu.pid"));
    if (pid !== undefined && alive(pid)) {
      process.kill(pid, "SIGTERM");
      log(`down: ${name} (qemu pid ${pid}) stopped`);
    }
  }
  const dns = readPid(path.join(workDir(), "run", "dnsmasq.pid"));
  if (dns !== undefined && alive(dns)) process.kill(dns, "SIGTERM");
  fs.rmSync(path.join(workDir(), "run", "dnsmasq.pid"), { force: true });
}
