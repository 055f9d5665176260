/**
 * The lab's scenarios, once: each id's name (bench.json, `--only`, the bench summary) and how it
 * runs. `bench` runs them in id order; scenario 8 reads the footprint that scenario 1 sampled.
 */
import { Figures, ScenarioContext } from "./common";
import { switchUnderLoad } from "./s1-switch-under-load";
import { drain } from "./s2-drain";
import { guardedSwitch } from "./s3-guarded-switch";
import { appFailure } from "./s4-app-failure";
import { valkeyFailover } from "./s5-valkey-failover";
import { quorumWithoutGate } from "./s6-quorum-without-gate";
import { tokenPersistence } from "./s7-token-persistence";
import { convergeUnderLoad } from "./s9-converge-under-load";
import { plannedMasterMove } from "./s10-planned-master-move";
import { interruptedPromotion } from "./s11-interrupted-promotion";
import { freezeActive } from "./s12-freeze";
import { alertDelivery } from "./s13-alerts";
import { authGuessing } from "./s14-auth-guessing";
import { gateRebuild } from "./s15-gate-rebuild";
import { masterFreeze, masterPartition } from "./s16-master-faults";
import { labStartup } from "./s18-startup";
import { slowPromotion } from "./s19-slow-promotion";

/** What one bench run carries from a scenario to a later one. */
export interface BenchState {
  /** The gate's footprint, sampled during scenario 1 and reported as scenario 8. */
  footprint: Figures | null;
}

export interface Scenario {
  readonly name: string;
  readonly run: (ctx: ScenarioContext, state: BenchState) => Promise<Figures>;
}

const table: Readonly<Record<number, Scenario>> = {
  1: {
    name: "switch under load",
    run: async (ctx, state) => {
      const r = await switchUnderLoad(ctx);
      state.footprint = r.footprint;
      return r.figures;
    },
  },
  2: { name: "drain", run: (ctx) => drain(ctx) },
  3: { name: "guarded switch", run: (ctx) => guardedSwitch(ctx) },
  4: { name: "app failure", run: (ctx) => appFailure(ctx) },
  5: { name: "Valkey failover", run: (ctx) => valkeyFailover(ctx) },
  6: { name: "quorum without the gate", run: (ctx) => quorumWithoutGate(ctx) },
  7: { name: "token persistence", run: (ctx) => tokenPersistence(ctx) },
  8: {
    name: "gate footprint (during 1)",
    run: (_ctx, state) => {
      if (state.footprint === null)
        throw new Error("scenario 1 did not run, so there is no footprint sample");
      return Promise.resolve(state.footprint);
    },
  },
  9: { name: "configuration converge under load", run: (ctx) => convergeUnderLoad(ctx) },
  10: { name: "planned master move", run: (ctx) => plannedMasterMove(ctx) },
  11: { name: "interrupted promotion", run: (ctx) => interruptedPromotion(ctx) },
  12: { name: "freeze of the active app", run: (ctx) => freezeActive(ctx) },
  13: { name: "alerts reach on-call", run: (ctx) => alertDelivery(ctx) },
  14: { name: "AUTH guessing", run: (ctx) => authGuessing(ctx) },
  15: { name: "gate rebuild under load", run: (ctx) => gateRebuild(ctx) },
  16: { name: "partition of the message master", run: (ctx) => masterPartition(ctx) },
  17: { name: "freeze of the message master", run: (ctx) => masterFreeze(ctx) },
  18: { name: "lab startup with and without monitoring", run: (ctx) => labStartup(ctx) },
  19: { name: "slow promotion (the leading Sentinel frozen)", run: (ctx) => slowPromotion(ctx) },
};

/** The scenarios in id order. */
export const SCENARIOS: readonly (readonly [number, Scenario])[] = Object.entries(table)
  .map(([id, s]) => [Number(id), s] as const)
  .sort((a, b) => a[0] - b[0]);

export const SCENARIO_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  SCENARIOS.map(([id, s]) => [id, s.name]),
);
