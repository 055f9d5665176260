/** The monitoring keys: where Alertmanager delivers (docs/monitoring.md). */
import { ConfigError, RawConfig, readSecret } from "./read";
import { CONFIG_SCHEMA } from "./schema";

const WEBHOOK_RULE =
  "empty (alerts are not delivered) or an http:// or https:// URL without spaces or quotes";

/** `alertWebhookUrl` (a secret): "" delivers nothing. */
export function readAlertWebhookUrl(raw: RawConfig): string {
  const url = readSecret(raw, "alertWebhookUrl", WEBHOOK_RULE) ?? CONFIG_SCHEMA.alertWebhookUrl.default;
  if (url !== "" && !/^https?:\/\/[^\s'"\\]+$/.test(url)) {
    throw new ConfigError("alertWebhookUrl", "the value is not an http:// or https:// URL", WEBHOOK_RULE);
  }
  return url;
}
