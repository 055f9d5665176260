/**
 * yquant guardrails: the policy pack for the three-VM layout on OCI.
 *
 *   pulumi preview --policy-pack policy
 *
 * The rules live in ./rules.ts (tested in ./rules.test.ts); docs/security.md explains what they guard.
 * Policy config (per rule: enforcementLevel and the rule's own settings) goes in a JSON file passed
 * with --policy-pack-config, e.g. {"instance-shape-limits": {"maxOcpus": 2, "maxMemoryGbs": 12}}.
 */
import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./rules";

new PolicyPack("yquant-guardrails", {
  description:
    "Guardrails for yQuant's OCI layout: no public IP on engines, only 80/443 to the internet, IMDSv2 only, " +
    "shapes within limits; advisory: in-transit boot volume encryption and a reserved gate IP.",
  policies: allPolicies,
});
