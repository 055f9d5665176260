import { expect, it } from "vitest";
import { previewReport } from "../../tools/preview/preview-report";
import { loadProgram } from "../bluegreen/fixtures";

it("prints the preview-equivalent diff of the three pipeline steps (npx tsx tools/preview/preview-report.ts)", async () => {
  const report = await previewReport(loadProgram);
  console.log(report);
  expect(report).toBe(
    [
      "1. activeColor: blue -> green",
      "  ~  update  command:remote:Command  yq-switch-active [diff: ~create, ~update]",
      "  resources: 44 same, 1 update",
      "",
      "2. releases.green: v1.0.0 -> v1.1.0",
      "  ~  update  command:remote:Command  yq-green-deploy [diff: ~create, ~update]",
      "  resources: 44 same, 1 update",
      "",
      "3. rebuild.green: 0 -> 1 (green is the standby)",
      '  +- replace oci:Core/instance:Instance  yq-green-instance [diff: ~freeformTags["yquant-rebuild"]] ' +
        '(replace because: freeformTags["yquant-rebuild"]; delete before replace)',
      "  +- replace command:remote:Command  yq-green-deploy [diff: ~triggers] (replace because: triggers)",
      "  resources: 43 same, 2 replace",
    ].join("\n"),
  );
});
