/** The key tables of docs/configuration.md (English and Korean) are the ones the schema generates. */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS } from "../../config/schema";
import { BEGIN, DOCS, END, Language, configTable, withTable } from "../../tools/docs/config-docs";

describe.each(["en", "ko"] as Language[])("docs table (%s)", (language) => {
  const text = fs.readFileSync(DOCS[language], "utf8");

  it("is committed exactly as `npm run docs:config` generates it", () => {
    expect(text.slice(text.indexOf(BEGIN), text.indexOf(END) + END.length)).toBe(
      `${BEGIN}\n${configTable(language)}\n${END}`,
    );
    expect(withTable(text, language)).toBe(text);
  });

  it("has one row per schema key, in schema order", () => {
    const rows = configTable(language).split("\n").slice(2);
    expect(rows.map((row) => /^\| `([A-Za-z]+)` \|/.exec(row)?.[1])).toEqual(CONFIG_KEYS);
  });
});

it("renders a row from the schema's kind, default and rule", () => {
  expect(
    configTable("en")
      .split("\n")
      .filter((row) => /`(drainSeconds|valkeyPassword|compartmentId)`/.test(row)),
  ).toEqual([
    "| `compartmentId` | string | required | `ocid1.compartment.…` or `ocid1.tenancy.…` |",
    "| `valkeyPassword` | secret | generated | 16 to 128 characters of `A-Z a-z 0-9 . _ ~ + = @ % : , -` |",
    "| `drainSeconds` | integer | `30` | 0 to 3600 |",
  ]);
});
