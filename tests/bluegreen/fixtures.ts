/** Config for the pipeline's mock runs, and the recording of a baseline deployment. */
import { vi } from "vitest";
import { ProgramRecording, recordProgram } from "../../tools/preview/mock-program";

export const SSH_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTONLYNOTAREALKEY\n-----END OPENSSH PRIVATE KEY-----\n";

export function pipelineConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
  const raw: Record<string, unknown> = {
    compartmentId: "ocid1.compartment.oc1..aaaatestcompartment",
    sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTONLYTESTONLYTESTONLYTESTONLY test@example",
    sshPrivateKey: SSH_PRIVATE_KEY,
    adminCidrs: ["198.51.100.7/32"],
    acknowledgeCharges: true,
    valkeyPassword: "TestValkeyPassword0123456789abc",
    sentinelPassword: "TestSentinelPassword0123456789xy",
    activeColor: "blue",
    releases: { blue: "v1.0.0", green: "v1.0.0" },
    rebuild: { blue: 0, green: 0 },
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Imports program.ts afresh (vitest's module registry is reset first) and runs it. */
export async function loadProgram(): Promise<unknown> {
  vi.resetModules();
  return (await import("../../program")).yquantStack();
}

export async function record(
  overrides: Record<string, unknown>,
  previous?: Record<string, unknown>,
  preview = false,
): Promise<ProgramRecording> {
  return recordProgram({ config: pipelineConfig(overrides), previous, load: loadProgram, preview });
}
