/** The loss bound of scenarios 16 and 17 (lab/scenarios/durability.ts). Starts no process. */
import { describe, expect, it } from "vitest";
import { LOSS_WINDOW_MS, lossBound } from "../../lab/scenarios/durability";

describe("lossBound", () => {
  it("is the writer's rate over the 1.5 s before the fault, times min-replicas-max-lag + 2 s", () => {
    expect(LOSS_WINDOW_MS).toBe(4_000);
    // 300 acknowledgements in the 1.5 s before the fault (200/s): 800 over 4 s.
    const acks = Array.from({ length: 300 }, (_, i) => 10_000 - 1_500 + i * 5);
    expect(lossBound(acks, 10_000)).toBe(800);
  });

  it("counts only the acknowledgements inside the rate window", () => {
    // Before the window, at the fault and after it: none counts.
    expect(lossBound([1_000, 8_499, 10_000, 12_000], 10_000)).toBe(0);
    expect(lossBound([8_500, 9_999], 10_000)).toBe(6);
  });
});
