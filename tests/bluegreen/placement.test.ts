/** The day-2 rules for placement and engine sizing (bluegreen/placement.ts), with exact messages. */
import { describe, expect, it } from "vitest";
import {
  EngineSizing,
  engineSizingFor,
  pendingResizeNote,
  placementFromOutput,
  placementRefusals,
  sizingFromOutput,
} from "../../bluegreen/placement";

const A1 = (ocpus: number, memoryGbs = 12): EngineSizing => ({
  shape: "VM.Standard.A1.Flex",
  ocpus,
  memoryGbs,
});

describe("placement", () => {
  it("reads only well-formed records", () => {
    expect(placementFromOutput({ natGateway: true, availabilityDomainIndex: 0 })).toEqual({
      natGateway: true,
      availabilityDomainIndex: 0,
    });
    expect(placementFromOutput({ natGateway: "true", availabilityDomainIndex: 0 })).toBeUndefined();
    expect(placementFromOutput(undefined)).toBeUndefined();
    expect(sizingFromOutput({ blue: A1(2), green: A1(2) })).toEqual({ blue: A1(2), green: A1(2) });
    expect(sizingFromOutput({ blue: A1(2) })).toBeUndefined();
  });

  it("refuses natGateway and availabilityDomainIndex changes, naming the collision and the outage", () => {
    const was = { natGateway: true, availabilityDomainIndex: 0 };
    expect(placementRefusals(undefined, { natGateway: false, availabilityDomainIndex: 1 })).toEqual([]);
    expect(placementRefusals(was, was)).toEqual([]);
    expect(placementRefusals(was, { natGateway: false, availabilityDomainIndex: 1 })).toEqual([
      "yquant:natGateway: refusing to change it from true to false. The engine subnet's " +
        "prohibitPublicIpOnVnic/prohibitInternetIngress are fixed at creation, so the subnet would be replaced " +
        "create-before-delete with the same CIDR and DNS label (OCI refuses both while the old subnet exists), " +
        "and both engines with it in one update. Nothing was changed. It is a planned full outage: see " +
        'docs/runbooks/day2.md, "Network placement".',
      "yquant:availabilityDomainIndex: refusing to change it from 0 to 1. The availability domain is fixed at " +
        "creation: the gate, blue and green would all be replaced in one update (a full outage, new boot " +
        'volumes). Nothing was changed. See docs/runbooks/day2.md, "Network placement".',
    ]);
  });
});

describe("engine sizing", () => {
  const recorded = { blue: A1(2), green: A1(2) };

  it("resizes only the engine that is the standby before and after the update", () => {
    const wanted = A1(1);
    const given = (live: "blue" | "green", active: "blue" | "green", color: "blue" | "green") =>
      engineSizingFor(recorded, wanted, live, active, color).ocpus;
    expect([given("blue", "blue", "blue"), given("blue", "blue", "green")]).toEqual([2, 1]);
    // A switch in the same update: neither engine is the standby on both sides, nobody is resized.
    expect([given("blue", "green", "blue"), given("blue", "green", "green")]).toEqual([2, 2]);
  });

  it("gives the wanted sizing on a first deployment and when it is already in force", () => {
    expect(engineSizingFor(undefined, A1(1), undefined, "blue", "blue")).toEqual(A1(1));
    expect(engineSizingFor({ blue: A1(1), green: A1(2) }, A1(1), "green", "green", "blue")).toEqual(A1(1));
  });

  it("tells the operator what is pending, and nothing when nothing is", () => {
    expect(pendingResizeNote(recorded, A1(1), "blue", "blue", "blue")).toBe(
      "engine sizing: yq-blue keeps VM.Standard.A1.Flex 2 OCPU / 12 GB in this update because it is (or " +
        "becomes) the active color; VM.Standard.A1.Flex 1 OCPU / 12 GB reaches it once it is the standby: " +
        "npm run bg -- switch, then pulumi up again (a resize reboots the VM, so it never hits the live " +
        "engine or both at once).",
    );
    expect(pendingResizeNote(recorded, A1(1), "blue", "blue", "green")).toBeUndefined();
    expect(pendingResizeNote(recorded, A1(2), "blue", "blue", "blue")).toBeUndefined();
  });
});
