import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "out/vitest-report.json" }]],
    projects: [
      {
        test: {
          name: "unit",
          include: ["tests/**/*.test.ts", "policy/**/*.test.ts"],
          exclude: ["tests/lab/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "lab",
          include: ["tests/lab/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
