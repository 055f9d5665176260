/**
 * The Secrets component built on its own under the one mock runtime (tests/fixtures.ts `build`):
 * every password is a secret Output, given or generated, and exactly the unset ones are generated.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { USER_SECRETS } from "../../cloud-init/layout";
import { Secrets } from "../../components/secrets";
import { SecretString } from "../../config";
import { SENTINEL_PASSWORD, TLS_PEM, TYPES, VALKEY_PASSWORD, build } from "../fixtures";

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** What `construct` registers besides the stack, and Secrets' outputs with whether each is secret. */
async function secrets(name: string, args: ConstructorParameters<typeof Secrets>[1]) {
  const r = await build(() => {
    const s = new Secrets(name, args);
    const outputs: pulumi.Output<unknown>[] = [s.valkeyPassword, s.sentinelPassword, s.tlsPem, s.users];
    return {
      valkeyPassword: s.valkeyPassword,
      sentinelPassword: s.sentinelPassword,
      tlsPem: s.tlsPem,
      users: s.users,
      secret: pulumi.output(Promise.all(outputs.map((o) => pulumi.isSecret(o)))),
    };
  });
  const registered = r.resources
    .filter((x) => x.type !== "pulumi:pulumi:Stack")
    .map((x) => [`${x.type} ${x.name} <- ${x.parent ?? "(root)"}`, x.inputs]);
  return { registered, outputs: r.outputs };
}

describe("Secrets", () => {
  it("uses the configured passwords and the TLS PEM as secrets, and generates only the other users'", async () => {
    const { registered, outputs } = await secrets("given", {
      valkeyPassword: new SecretString(VALKEY_PASSWORD),
      sentinelPassword: new SecretString(SENTINEL_PASSWORD),
      tlsPem: new SecretString(TLS_PEM),
    });
    expect(registered).toEqual([
      ["yquant:security:Secrets given <- (root)", {}],
      ...USER_SECRETS.map((key) => [
        `${TYPES.randomPassword} given-${kebab(key)}-password <- yquant:security:Secrets::given`,
        { length: 32, special: false },
      ]),
    ]);
    expect([outputs["valkeyPassword"], outputs["sentinelPassword"], outputs["tlsPem"]]).toEqual([
      VALKEY_PASSWORD,
      SENTINEL_PASSWORD,
      TLS_PEM,
    ]);
    expect(outputs["secret"]).toEqual([true, true, true, true]);
  });

  it("generates unset passwords with RandomPassword (32, no special), all secret, one per user", async () => {
    const { registered, outputs } = await secrets("generated", {});
    expect(registered).toEqual([
      ["yquant:security:Secrets generated <- (root)", {}],
      ...["valkey", "sentinel", ...USER_SECRETS.map(kebab)].map((key) => [
        `${TYPES.randomPassword} generated-${key}-password <- yquant:security:Secrets::generated`,
        { length: 32, special: false },
      ]),
    ]);
    // The mock's RandomPassword result is derived from the resource's name.
    expect(outputs["valkeyPassword"]).toBe("Gengeneratedvalkeypassword012345");
    expect(outputs["sentinelPassword"]).toBe("Gengeneratedsentinelpassword0123");
    expect(outputs["tlsPem"]).toBe("");
    const users = outputs["users"] as Record<string, string>;
    expect(Object.keys(users)).toEqual([...USER_SECRETS]);
    expect(new Set(Object.values(users)).size).toBe(USER_SECRETS.length);
    expect(outputs["secret"]).toEqual([true, true, true, true]);
  });
});
