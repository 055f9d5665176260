/**
 * The activeColor invariant: switching the active color never touches an instance, VNIC, volume or
 * network resource. The program runs twice, blue then green, and every resource's inputs must be
 * identical between the two runs. Only the activeColor/standbyColor outputs may differ.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  OCI_COUNTS,
  OCI_TYPES,
  programConfig,
  CORE_OUTPUTS,
  ProgramRun,
  RecordedResource,
  runProgram,
  unwrapSecrets,
} from "../fixtures";
import { decodeUserData } from "../../cloud-init/user-data";

/** Types whose inputs must not move with activeColor (every OCI type); each must be present in the program. */
const GUARDED_TYPES = [...OCI_TYPES];

function keyed(run: ProgramRun): Map<string, RecordedResource> {
  return new Map(run.resources.filter((r) => r.custom).map((r) => [`${r.type}::${r.name}`, r]));
}

describe("activeColor invariant", () => {
  let blue: ProgramRun;
  let green: ProgramRun;
  beforeAll(async () => {
    blue = await runProgram(programConfig({ activeColor: "blue" }));
    green = await runProgram(programConfig({ activeColor: "green" }));
    expect(blue.error).toBeUndefined();
    expect(green.error).toBeUndefined();
  });

  it("creates the same resources, by type and name, for blue and green", () => {
    expect([...keyed(green).keys()].sort()).toEqual([...keyed(blue).keys()].sort());
    for (const type of GUARDED_TYPES) {
      expect(
        blue.resources.some((r) => r.type === type),
        type,
      ).toBe(true);
    }
  });

  it.each(GUARDED_TYPES)("gives every %s identical inputs for blue and green", (type) => {
    const greenByKey = keyed(green);
    const resources = [...keyed(blue).values()].filter((r) => r.type === type);
    expect(resources).toHaveLength(OCI_COUNTS[type] ?? -1);
    for (const resource of resources) {
      const other = greenByKey.get(`${resource.type}::${resource.name}`);
      // Secret markers stay in: a change in secrecy is a change too. The decoded user data is
      // compared separately below so that a failure points at the node.
      expect(other?.inputs, resource.name).toEqual(resource.inputs);
    }
  });

  it("renders byte-identical user data for every node", () => {
    const userData = (run: ProgramRun, node: string) => {
      const instance = run.resources.find((r) => r.name === `yq-${node}-instance`);
      const metadata = unwrapSecrets(instance?.inputs["metadata"]) as Record<string, string>;
      return decodeUserData(metadata["user_data"] ?? "");
    };
    for (const node of ["gate", "blue", "green"]) {
      expect(userData(green, node), node).toBe(userData(blue, node));
      expect(userData(blue, node).split("\n")[0], node).toBe("#cloud-config");
    }
  });

  it("changes only the activeColor and standbyColor outputs of stack core", () => {
    const core = (run: ProgramRun) =>
      Object.fromEntries(Object.entries(run.outputs).filter(([key]) => CORE_OUTPUTS.includes(key)));
    const { activeColor: blueActive, standbyColor: blueStandby, ...blueRest } = core(blue);
    const { activeColor: greenActive, standbyColor: greenStandby, ...greenRest } = core(green);
    expect(Object.keys(blueRest).length).toBe(CORE_OUTPUTS.length - 2);
    expect([blueActive, blueStandby, greenActive, greenStandby]).toEqual(["blue", "green", "green", "blue"]);
    expect(greenRest).toEqual(blueRest);
  });
});
