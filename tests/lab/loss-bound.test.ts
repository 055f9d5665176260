/** The loss bound and window of scenarios 16 and 17 (lab/scenarios/durability.ts). Starts no process. */
import { describe, expect, it } from "vitest";
import { LOSS_WINDOW_MS, lossBound, lossWindowMs } from "../../lab/scenarios/durability";

describe("lossBound", () => {
  it("counts the writer's acknowledgements from 1 s before the fault to min-replicas-max-lag + 2 s after", () => {
    expect(LOSS_WINDOW_MS).toBe(4_000);
    // Before the window, inside it (both ends), after it.
    expect(lossBound([8_999, 9_000, 10_000, 14_000, 14_001], [10_000])).toBe(3);
    // A freeze: the fault and the SIGCONT 12 s later each open a window.
    expect(lossBound([9_000, 14_001, 21_000, 22_500, 26_001], [10_000, 22_000])).toBe(3);
  });
});

describe("lossWindowMs", () => {
  it("is the time from the fault to the last lost write's acknowledgement, 0 when none was lost", () => {
    const ackTimes = [9_500, 10_200, 11_000, 12_750, 30_000];
    expect(lossWindowMs(ackTimes, [1, 3], [10_000])).toBe(2_750);
    expect(lossWindowMs(ackTimes, [0], [10_000])).toBe(0);
    expect(lossWindowMs(ackTimes, [], [10_000])).toBe(0);
    // After a SIGCONT at 29,990 the lost write at 30,000 is 10 ms into its window, not 20 s.
    expect(lossWindowMs(ackTimes, [4], [10_000, 29_990])).toBe(10);
  });
});
