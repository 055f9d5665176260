/**
 * What first boot must leave on each node, on real cloud-init and systemd: done, no failed unit,
 * health-check.sh passing, and each defect the VMs exposed fixed (see docs/vm.md).
 */
import type { NodeName } from "../../cloud-init/layout";
import { Report, guest, oneLine, until } from "./report";

/** Monotonic time (µs) a unit became active, from systemd. */
const activeAt = (unit: string): string => `systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}`;

export async function bootChecks(report: Report, nodes: readonly NodeName[]): Promise<void> {
  for (const node of nodes) {
    const engine = node !== "gate";
    await report.check(`${node}: cloud-init status done`, async () => {
      const out = await guest(node, "cloud-init status --long", 120);
      if (!/^status: done$/m.test(out)) throw new Error(out);
      return oneLine(out, 120);
    });
    await report.check(`${node}: no failed unit`, async () => {
      const out = await guest(node, "systemctl --failed --no-legend --plain");
      if (out.trim() !== "") throw new Error(out);
      return "none";
    });
    await report.check(`${node}: health-check.sh exits 0`, () =>
      until(120, () => guest(node, "/opt/yquant/bin/health-check.sh", 60)),
    );
    await report.check(`${node}: sshd was up before cloud-final (the package step) finished`, async () => {
      const out = await guest(node, `${activeAt("ssh.service")}; ${activeAt("cloud-final.service")}`);
      const [ssh, final] = out.trim().split("\n").map(Number);
      if (!ssh || !final || ssh >= final) throw new Error(`ssh ${ssh} µs, cloud-final ${final} µs`);
      return `ssh active at ${(ssh / 1e6).toFixed(0)}s, cloud-final done at ${(final / 1e6).toFixed(0)}s`;
    });
    await report.check(
      `${node}: bootcmd only queued the wait for package sources (yq-pkg-wait)`,
      async () => {
        const out = await guest(
          node,
          "grep -E '(start|finish): init-network/config-bootcmd' /var/log/cloud-init.log | cut -c1-23; " +
            "journalctl -b -o cat -u yq-pkg-wait | grep -cE '^(Started|Finished|yq-pkg-wait.service: Deactivated)'",
        );
        const lines = out.trim().split("\n");
        const [start, finish] = lines
          .slice(0, 2)
          .map((l) => Date.parse(`${l.replace(",", ".").replace(" ", "T")}Z`));
        const seconds = ((finish ?? NaN) - (start ?? NaN)) / 1000;
        if (!(seconds < 30) || !(Number(lines[2]) >= 1)) throw new Error(out);
        return `bootcmd took ${seconds.toFixed(1)}s; the unit ran (${lines[2]} journal lines)`;
      },
    );
    await report.check(
      `${node}: Valkey units after network-online.target, overcommit on, no warning`,
      async () => {
        const out = await guest(
          node,
          "systemctl show -p After --value valkey-server valkey-sentinel; sysctl -n vm.overcommit_memory; " +
            "{ cat /var/log/valkey/*.log; journalctl -b -o cat -u valkey-server -u valkey-sentinel; } 2>/dev/null | grep -ci overcommit || true",
        );
        // `systemctl show` separates the two units' values with an empty line.
        const lines = out
          .trim()
          .split("\n")
          .filter((l) => l !== "");
        if (!lines[0]?.includes("network-online.target") || !lines[1]?.includes("network-online.target")) {
          throw new Error(out);
        }
        if (lines[2] !== "1") throw new Error(`vm.overcommit_memory ${lines[2]}`);
        if (lines[3] !== "0") throw new Error(`overcommit warnings: ${lines[3]}`);
        return `overcommit ${lines[2]}, warnings ${lines[3]}`;
      },
    );
    await report.check(
      `${node}: setup.sh firewall inserted above the image's REJECT, no warning`,
      async () => {
        const out = await guest(
          node,
          "grep 'setup.sh.*firewall' /var/log/cloud-init-output.log; iptables -S INPUT | awk '/REJECT/ {r=NR} /yquant-/ {y=NR} END {exit !(r && y && y < r)}'",
        );
        if (!/inserted above REJECT, 0 appended/.test(out) || /WARNING/.test(out)) throw new Error(out);
        return oneLine(out, 120);
      },
    );
    if (!engine) {
      await report.check(
        "gate: the token Valkey's dir is on the token volume (formatted blank, by label)",
        async () => {
          const out = await guest(
            node,
            `. /etc/yquant/node.env; findmnt -no LABEL,FSTYPE "$TOKEN_VOLUME_MOUNT"; stat -c '%U %a' "$TOKEN_DATA_DIR"; grep -c 'token volume: .* was blank: formatted' /var/log/cloud-init-output.log`,
          );
          const lines = out.trim().split("\n");
          if (lines[0] !== "yq-tokens ext4" || !lines[1]?.startsWith("valkey ") || lines[2] !== "1") {
            throw new Error(out);
          }
          return oneLine(out, 100);
        },
      );
      await report.check("gate: haproxy -c, and no 'already specified' ALERT since boot", async () => {
        const out = await guest(
          node,
          "haproxy -c -f /etc/haproxy/haproxy.cfg >/dev/null && echo valid; journalctl -b -u haproxy -o cat | grep -c 'ALERT.*already specified' || true",
        );
        if (!out.startsWith("valid") || out.trim().split("\n")[1] !== "0") throw new Error(out);
        return "valid, 0 such ALERT";
      });
    } else {
      await report.check(`${node}: placeholder app: no traceback in its journal`, async () => {
        const out = await guest(node, "journalctl -b -u yquant-frontend -o cat | grep -c Traceback || true");
        if (out.trim() !== "0") throw new Error(`${out.trim()} tracebacks`);
        return "0 tracebacks";
      });
    }
  }
}
