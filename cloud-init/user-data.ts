/**
 * Interface placeholder: the rendered-configuration work replaces the body with the real renderer.
 * The signature is the contract the Pulumi program and the lab build on.
 */
import { Layout, NodeName, HOSTNAMES } from "./layout";

/** The exact `#cloud-config` text for one node. Pure: same input, byte-identical output. */
export function renderUserData(layout: Layout, node: NodeName): string {
  return `#cloud-config\nhostname: ${HOSTNAMES[node]}\n# root: ${layout.roots[node]}\n`;
}
