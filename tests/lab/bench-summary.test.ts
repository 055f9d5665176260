/**
 * The pure summary of `bench --repeat N` (lab/bench-summary.ts): median, min–max, the worst run of a
 * count with an exact goal, and a goal met only when met in every run. Starts no process.
 */
import { describe, expect, it } from "vitest";
import {
  SummaryFigureInput,
  SummaryRunInput,
  describeFigure,
  describeMet,
  exactGoal,
  median,
  summariseRuns,
  worstOf,
} from "../../lab/bench-summary";

const fig = (
  key: string,
  value: SummaryFigureInput["value"],
  goal = "report",
  met: boolean | null = null,
  unit = "ms",
): SummaryFigureInput => ({ key, name: key, value, unit, goal, met });

function defined<T>(v: T | undefined): T {
  if (v === undefined) throw new Error("expected a value");
  return v;
}

const runOf = (
  figures: SummaryFigureInput[],
  durationSeconds = 10,
  error: string | null = null,
): SummaryRunInput => ({
  scenarios: [{ id: 1, name: "switch under load", durationSeconds, error, figures }],
});

describe("median", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([182.9, 166.9, 169.6])).toBe(169.6);
    expect(median([5])).toBe(5);
  });

  it("takes the mean of the middle two of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([6304.1, 5900.8])).toBeCloseTo(6102.45, 6);
  });

  it("is NaN for no values and does not reorder its input", () => {
    expect(median([])).toBeNaN();
    const v = [3, 1, 2];
    median(v);
    expect(v).toEqual([3, 1, 2]);
  });
});

describe("exact goals and the worst run", () => {
  it("recognises exact numeric goals only", () => {
    expect(exactGoal("0")).toBe(0);
    expect(exactGoal("500")).toBe(500);
    expect(exactGoal("100%")).toBe(100);
    expect(exactGoal("0%")).toBe(0);
    expect(exactGoal("report")).toBeNull();
    expect(exactGoal("<= 100 ms")).toBeNull();
    expect(exactGoal(">= 20000")).toBeNull();
    expect(exactGoal("0,0")).toBeNull();
  });

  it("the worst is the value furthest from the goal", () => {
    expect(worstOf([0, 3, 1], 0)).toBe(3);
    expect(worstOf([500, 498, 500], 500)).toBe(498);
    expect(worstOf([100, 100], 100)).toBe(100);
  });
});

describe("summariseRuns", () => {
  const runs = [
    runOf(
      [fig("switch", 169.6), fig("failed", 0, "0", true, "requests"), fig("color", "blue", "blue", true, "")],
      28.1,
    ),
    runOf(
      [
        fig("switch", 182.9),
        fig("failed", 2, "0", false, "requests"),
        fig("color", "blue", "blue", true, ""),
      ],
      29.5,
    ),
    runOf(
      [fig("switch", 166.9), fig("failed", 0, "0", true, "requests"), fig("color", "blue", "blue", true, "")],
      27.9,
    ),
  ];
  const summary = summariseRuns(runs);
  const figures = summary.scenarios[0]?.figures ?? [];
  const byKey = (k: string) => defined(figures.find((f) => f.key === k));

  it("keeps the scenarios and figures in order, with every run's value", () => {
    expect(summary.runs).toBe(3);
    expect(summary.scenarios.map((s) => [s.id, s.name, s.errorRuns])).toEqual([[1, "switch under load", 0]]);
    expect(summary.scenarios[0]?.durationSeconds).toEqual({ median: 28.1, min: 27.9, max: 29.5 });
    expect(figures.map((f) => f.key)).toEqual(["switch", "failed", "color"]);
    expect(byKey("switch")?.values).toEqual([169.6, 182.9, 166.9]);
  });

  it("gives median, min and max of a timing, and no worst (its goal is not exact)", () => {
    expect(byKey("switch")).toMatchObject({ median: 169.6, min: 166.9, max: 182.9, worst: null, met: null });
    expect(describeFigure(byKey("switch"))).toEqual({ value: "169.6", note: "median of 3; 166.9–182.9" });
    expect(describeMet(byKey("switch"))).toBe("");
  });

  it("shows the worst run of a count with an exact goal, and not met unless met in every run", () => {
    const f = byKey("failed");
    expect(f).toMatchObject({ median: 0, min: 0, max: 2, worst: 2, met: false, metRuns: 2 });
    expect(describeFigure(f)).toEqual({ value: "2", note: "worst of 3; median 0; 0–2" });
    expect(describeMet(f)).toBe("NO (2 of 3)");
  });

  it("a non-numeric figure met in every run", () => {
    const f = byKey("color");
    expect(f).toMatchObject({ median: null, min: null, max: null, worst: null, met: true, metRuns: 3 });
    expect(describeFigure(f)).toEqual({ value: "blue", note: "same in 3 of 3" });
    expect(describeMet(f)).toBe("yes");
  });

  it("a run whose scenario failed counts as not meeting its goals", () => {
    const s = summariseRuns([
      runOf([fig("lost", 0, "0", true, "writes"), fig("who", "green", "green", true, "")]),
      runOf([], 3, "timed out"),
      runOf([fig("lost", 0, "0", true, "writes"), fig("who", "blue", "green", false, "")]),
    ]);
    expect(s.scenarios[0]?.errorRuns).toBe(1);
    const lost = defined(s.scenarios[0]?.figures[0]);
    expect(lost).toMatchObject({ values: [0, null, 0], worst: 0, met: false, metRuns: 2 });
    expect(describeFigure(lost).note).toBe("worst of 3; median 0; 0–0; missing in 1");
    const who = defined(s.scenarios[0]?.figures[1]);
    expect(describeFigure(who)).toEqual({ value: "varies", note: "green ×1, blue ×1; missing in 1" });
    expect(describeMet(who)).toBe("NO (1 of 3)");
  });

  it("a single run summarises to its own values", () => {
    const s = summariseRuns([runOf([fig("t", 5.1, "<= 100 ms", true)])]);
    expect(s.scenarios[0]?.figures[0]).toMatchObject({ median: 5.1, min: 5.1, max: 5.1, met: true });
  });
});
