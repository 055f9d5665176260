/** The Secrets component: every password is a secret Output, given or generated. */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { SecretString } from "../../config";
import { SENTINEL_PASSWORD, TLS_PEM, VALKEY_PASSWORD } from "../fixtures";
import { USER_SECRETS } from "../../cloud-init/layout";

const created: { type: string; name: string; inputs: Record<string, unknown> }[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        return {
          id: `${args.name}-id`,
          state: args.type.startsWith("random:")
            ? { ...args.inputs, result: `generated-${args.name}` }
            : args.inputs,
        };
      },
      call(args) {
        throw new Error(`un-mocked invoke ${args.token}`);
      },
    },
    "yquant",
    "test",
    false,
  );
});

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

describe("Secrets", () => {
  it("marks configured passwords and the TLS PEM secret, and generates only the other users'", async () => {
    const { Secrets } = await import("../../components/secrets");
    const before = created.length;
    const secrets = new Secrets("given", {
      valkeyPassword: new SecretString(VALKEY_PASSWORD),
      sentinelPassword: new SecretString(SENTINEL_PASSWORD),
      tlsPem: new SecretString(TLS_PEM),
    });
    for (const output of [secrets.valkeyPassword, secrets.sentinelPassword, secrets.tlsPem]) {
      expect(await pulumi.isSecret(output)).toBe(true);
    }
    expect(await resolved(secrets.valkeyPassword)).toBe(VALKEY_PASSWORD);
    expect(await resolved(secrets.sentinelPassword)).toBe(SENTINEL_PASSWORD);
    expect(await resolved(secrets.tlsPem)).toBe(TLS_PEM);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(created.slice(before).map((r) => r.type)).toEqual([
      "yquant:security:Secrets",
      ...USER_SECRETS.map(() => "random:index/randomPassword:RandomPassword"),
    ]);
    expect(await pulumi.isSecret(secrets.users)).toBe(true);
  });

  it("generates unset passwords with RandomPassword (32, no special) and marks them secret", async () => {
    const { Secrets } = await import("../../components/secrets");
    const before = created.length;
    const secrets = new Secrets("generated", {});
    expect(await pulumi.isSecret(secrets.valkeyPassword)).toBe(true);
    expect(await pulumi.isSecret(secrets.sentinelPassword)).toBe(true);
    expect(await pulumi.isSecret(secrets.tlsPem)).toBe(true);
    expect(await resolved(secrets.valkeyPassword)).toBe("generated-generated-valkey-password");
    expect(await resolved(secrets.tlsPem)).toBe("");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(
      created
        .slice(before)
        .filter((r) => r.type === "random:index/randomPassword:RandomPassword")
        .map((r) => [r.name, r.inputs])
        .sort(),
    ).toEqual(
      [
        ["generated-sentinel-password", { length: 32, special: false }],
        ["generated-valkey-password", { length: 32, special: false }],
        ...USER_SECRETS.map((key) => [
          `generated-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-password`,
          { length: 32, special: false },
        ]),
      ].sort(),
    );
    const users = await resolved(secrets.users);
    expect(Object.keys(users)).toEqual([...USER_SECRETS]);
    expect(new Set(Object.values(users)).size).toBe(USER_SECRETS.length);
  });
});
