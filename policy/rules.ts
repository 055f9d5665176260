/**
 * The guardrail rules of the yquant policy pack, one exported policy object each, so that tests can
 * call `validateResource` / `validateStack` directly. Each concern has its file: ./common.ts (type
 * tokens, labels, rule config), ./ingress.ts (ingress rules reduced to ports), ./ports.ts,
 * ./instances.ts and ./gate-ip.ts (the policies).
 */
import type { Policies } from "@pulumi/policy";
import { reservedGateIp, stackHasReservedGateIp } from "./gate-ip";
import {
  bootVolumeInTransitEncryption,
  imdsV2Only,
  instanceShapeLimits,
  noPublicIpOnEngines,
} from "./instances";
import { noAdminPortsToWorld, onlyWebPortsToWorld } from "./ports";

export { TYPES, isType } from "./common";
export type { IngressRule } from "./ingress";
export { describePorts, isWorld, nsgIngressRule, securityListIngressRules } from "./ingress";
export {
  DEFAULT_ENGINE_CONFIG,
  DEFAULT_ENGINE_DISPLAY_NAMES,
  DEFAULT_SHAPE_LIMITS,
  bootVolumeInTransitEncryption,
  imdsV2Only,
  instanceShapeLimits,
  isEngine,
  noPublicIpOnEngines,
} from "./instances";
export {
  DEFAULT_FORBIDDEN_PORTS,
  DEFAULT_PORT_CONFIG,
  DEFAULT_PUBLIC_PORTS,
  noAdminPortsToWorld,
  onlyWebPortsToWorld,
} from "./ports";
export type { EngineConfig, ShapeConfig } from "./instances";
export type { PortConfig } from "./ports";
export { DEFAULT_GATE_DISPLAY_NAMES, reservedGateIp, stackHasReservedGateIp } from "./gate-ip";

/** Every policy of the pack, mandatory first. */
export const allPolicies: Policies = [
  noPublicIpOnEngines,
  noAdminPortsToWorld,
  onlyWebPortsToWorld,
  imdsV2Only,
  instanceShapeLimits,
  bootVolumeInTransitEncryption,
  reservedGateIp,
  stackHasReservedGateIp,
];
