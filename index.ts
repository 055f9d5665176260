/**
 * yQuant on OCI: the gate (HAProxy, token Valkey, Sentinel) and the engines blue and green (app,
 * message Valkey, Sentinel), as the topology table (cloud-init/topology.ts) lists them. The program
 * is program.ts; this file runs it and exports its outputs. Nothing imports this file.
 */
import { yquantStack } from "./program";

const stack = yquantStack();

export const activeColor = stack.activeColor;
export const standbyColor = stack.standbyColor;
export const gatePublicIp = stack.gatePublicIp;
export const liveUrl = stack.liveUrl;
export const stagingUrl = stack.stagingUrl;
export const privateIps = stack.privateIps;
export const instanceIds = stack.instanceIds;
export const sentinels = stack.sentinels;
export const costEstimate = stack.costEstimate;
export const liveColor = stack.liveColor;
export const deployedReleases = stack.deployedReleases;
export const rebuildGenerations = stack.rebuildGenerations;
export const engineMetadata = stack.engineMetadata;
export const placement = stack.placement;
export const engineSizing = stack.engineSizing;
export const gateRebuildGeneration = stack.gateRebuildGeneration;
export const gateMetadata = stack.gateMetadata;
export const tokenVolumeId = stack.tokenVolumeId;
