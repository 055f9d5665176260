/**
 * The one declarative table of the stack's configuration keys (namespace `yquant`). It drives
 * `loadConfig` (which reader each key gets), the key checks of `parseConfig`, the test that
 * `Pulumi.yaml` declares the same keys, types, defaults and descriptions, and the generated key
 * tables of docs/configuration.md and docs/ko/configuration.md (`npm run docs:config`). How a key is
 * declared, and the shared limits, are config/key-spec.ts.
 */
import { DEFAULT_RELEASE, DRAIN_SECONDS, RELEASE_REF_RULE } from "../rules";
import {
  KeySpec,
  MAX_ADMIN_CIDRS,
  MAX_LINE_LENGTH,
  MAX_SSH_KEY_LENGTH,
  MAX_SSH_PUBLIC_KEYS_LENGTH,
  MAX_TLS_PEM_LENGTH,
  cidrKey,
  imageKey,
  oneOf,
  passwordKey,
} from "./key-spec";

export type { DocText, KeyKind, KeySpec } from "./key-spec";

export const CONFIG_SCHEMA = {
  compartmentId: {
    kind: "string",
    secret: false,
    maxLength: MAX_LINE_LENGTH,
    description: "OCID of the compartment (or the tenancy) that holds every resource.",
    doc: {
      rule: ["`ocid1.compartment.…` or `ocid1.tenancy.…`", "`ocid1.compartment.…` 또는 `ocid1.tenancy.…`"],
    },
  },
  sshPublicKey: {
    kind: "string",
    secret: false,
    maxLength: MAX_SSH_PUBLIC_KEYS_LENGTH,
    description: "OpenSSH public key line for the ubuntu user on every VM.",
    doc: {
      rule: [
        "OpenSSH line(s): `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp*`",
        "OpenSSH 공개 키 줄: `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp*`",
      ],
    },
  },
  sshPrivateKey: {
    kind: "secret",
    secret: true,
    maxLength: MAX_SSH_KEY_LENGTH,
    description:
      "Private key matching sshPublicKey, used by the switch and release commands (SSH to the gate, and through it to the engines). Set with `pulumi config set --secret sshPrivateKey < key`.",
    doc: {
      rule: [
        "a PEM/OpenSSH private key; used by the switch and release commands",
        "PEM/OpenSSH 개인 키. 전환(switch)과 릴리스 명령이 사용",
      ],
    },
  },
  adminCidrs: {
    kind: "list",
    secret: false,
    maxLength: MAX_ADMIN_CIDRS,
    description:
      "IPv4 CIDRs allowed to SSH to the gate and to reach staging (8080) and stats (8404). 0.0.0.0/0 (or any prefix shorter than /8) needs allowWorldAdminAccess.",
    doc: {
      type: ["list of IPv4 CIDR", "IPv4 CIDR 목록"],
      rule: [
        `1 to ${MAX_ADMIN_CIDRS}, no duplicates; a prefix shorter than /8 (e.g. \`0.0.0.0/0\`) or \`::/0\` needs \`allowWorldAdminAccess\``,
        `1~${MAX_ADMIN_CIDRS}개, 중복 없음. /8보다 짧은 접두사(예: \`0.0.0.0/0\`)나 \`::/0\`은 \`allowWorldAdminAccess\` 필요`,
      ],
    },
  },
  allowWorldAdminAccess: {
    kind: "boolean",
    default: false,
    secret: false,
    description: "Accept adminCidrs that open SSH, staging and stats to the whole internet.",
    doc: { rule: ["", ""] },
  },
  activeColor: {
    kind: "string",
    default: "blue",
    secret: false,
    description: "The engine that serves live traffic, blue or green. Changing it changes nothing else.",
    doc: {
      type: ["`blue` / `green`", "`blue` / `green`"],
      rule: ["feeds only the outputs and the switch command", "출력과 전환 명령에만 쓰임"],
    },
  },
  availabilityDomainIndex: {
    kind: "integer",
    default: 0,
    secret: false,
    range: [0, 2],
    description: "Index (0 to 2) into oci.identity.getAvailabilityDomains for all three VMs.",
    doc: {
      rule: [
        "0 to 2, into `oci.identity.getAvailabilityDomains`",
        "0~2, `oci.identity.getAvailabilityDomains`의 인덱스",
      ],
    },
  },
  vcnCidr: cidrKey("10.0.0.0/16", "CIDR of the VCN, prefix /16 to /28.", [
    "prefix /16 to /28, network address (no host bits)",
    "접두사 /16~/28, 네트워크 주소(호스트 비트 없음)",
  ]),
  gateSubnetCidr: cidrKey(
    "10.0.1.0/24",
    "Public subnet of the gate, inside vcnCidr; the gate is pinned at host .10.",
    [
      "inside the VCN, prefix up to /28; the gate is pinned at host .10",
      "VCN 안, 접두사 /28까지. 게이트는 호스트 .10에 고정",
    ],
  ),
  engineSubnetCidr: cidrKey(
    "10.0.2.0/24",
    "Subnet of the engines, inside vcnCidr; blue is pinned at host .10 and green at .11.",
    [
      "inside the VCN, not overlapping the gate subnet; blue .10, green .11",
      "VCN 안, 게이트 서브넷과 겹치지 않음. blue .10, green .11",
    ],
  ),
  natGateway: {
    kind: "boolean",
    default: true,
    secret: false,
    description:
      "true: private engine subnet behind a NAT gateway. false (for tenancies that get LimitExceeded on NAT gateways): engines get public IPs in a subnet with no inbound rule from the internet.",
    doc: { rule: ['see "NAT gateway or not"', '아래 "NAT 게이트웨이 사용 여부" 참조'] },
  },
  gateShape: {
    kind: "string",
    default: "VM.Standard.E2.1.Micro",
    secret: false,
    maxLength: MAX_LINE_LENGTH,
    description: "Fixed shape of the gate.",
    doc: {
      rule: [
        "a known fixed shape: E2.1.Micro, E2.1, E2.2, E2.4, E2.8",
        "알려진 고정 셰이프: E2.1.Micro, E2.1, E2.2, E2.4, E2.8",
      ],
    },
  },
  engineShape: {
    kind: "string",
    default: "VM.Standard.A1.Flex",
    secret: false,
    maxLength: MAX_LINE_LENGTH,
    description: "Flexible shape of the engines.",
    doc: { rule: oneOf(["`VM.Standard.A1.Flex`"]) },
  },
  engineOcpus: {
    kind: "integer",
    default: 2,
    secret: false,
    description: "OCPUs per engine, 1 to 4.",
    doc: { rule: ["1 to 4", "1~4"] },
  },
  engineMemoryGbs: {
    kind: "integer",
    default: 12,
    secret: false,
    description: "Memory per engine in GB, 1 to 24 and 1 to 64 per OCPU.",
    doc: { rule: ["1 to 24, and 1 to 64 GB per OCPU", "1~24, 그리고 OCPU당 1~64 GB"] },
  },
  bootVolumeSizeGbs: {
    kind: "integer",
    default: 50,
    secret: false,
    range: [50, 200],
    description: "Boot volume size of every VM in GB, 50 to 200.",
    doc: { rule: ["50 to 200, for each VM", "50~200, VM마다"] },
  },
  gateImageId: imageKey("the gate's", "gateShape"),
  engineImageId: imageKey("the engines'", "engineShape"),
  acknowledgeCharges: {
    kind: "boolean",
    default: false,
    secret: false,
    description: "Required (true) when the cost model estimates the layout beyond the Always Free allowance.",
    doc: {
      rule: [
        "required when the cost model says the layout is beyond Always Free",
        "비용 모델이 Always Free를 넘는다고 하면 필수",
      ],
    },
  },
  valkeyPassword: passwordKey("Valkey"),
  sentinelPassword: passwordKey("Sentinel"),
  tlsPem: {
    kind: "secret",
    default: "",
    secret: true,
    maxLength: MAX_TLS_PEM_LENGTH,
    description:
      "Secret. PEM with the certificate chain and private key for HAProxy's 443; empty makes a self-signed one at first boot. Set with `pulumi config set --secret tlsPem < yquant.pem`.",
    doc: {
      rule: [
        `certificate chain and the private key of its first certificate for 443, at most ${MAX_TLS_PEM_LENGTH} characters; empty: self-signed at first boot`,
        `443용 인증서 체인과 첫 인증서의 개인 키, ${MAX_TLS_PEM_LENGTH}자 이하. 비어 있으면 첫 부팅 때 자체 서명`,
      ],
    },
  },
  alertWebhookUrl: {
    kind: "secret",
    default: "",
    secret: true,
    description:
      "Secret. Webhook URL Alertmanager posts every alert notification to (a chat or paging webhook that takes Alertmanager's JSON); empty delivers nothing (alerts stay visible in Alertmanager). Set with `pulumi config set --secret alertWebhookUrl https://...`.",
    doc: {
      rule: [
        "webhook Alertmanager posts alerts to ([monitoring.md](monitoring.md)); empty: no delivery; else an `http://` or `https://` URL",
        "Alertmanager가 알림을 보내는 웹훅([monitoring.md](monitoring.md)). 비어 있으면 보내지 않음. 아니면 `http://` 또는 `https://` URL",
      ],
    },
  },
  drainSeconds: {
    kind: "integer",
    default: 30,
    secret: false,
    range: DRAIN_SECONDS,
    description: "Drain window of a switch in seconds, 0 to 3600.",
    doc: { rule: [`${DRAIN_SECONDS[0]} to ${DRAIN_SECONDS[1]}`, `${DRAIN_SECONDS[0]}~${DRAIN_SECONDS[1]}`] },
  },
  messageMasterFollowsActive: {
    kind: "boolean",
    default: true,
    secret: false,
    description: "The switch also moves the message Valkey master to the new active engine through Sentinel.",
    doc: { rule: ["", ""] },
  },
  appRepository: {
    kind: "string",
    default: "",
    secret: false,
    maxLength: MAX_LINE_LENGTH,
    description: "Git URL of the app (https://, ssh:// or git@); empty runs the built-in placeholder app.",
    doc: {
      rule: [
        "empty: the built-in placeholder app; else `https://`, `ssh://` or `git@` URL",
        "비어 있으면 내장 플레이스홀더 앱, 아니면 `https://`, `ssh://`, `git@` URL",
      ],
    },
  },
  appBuildCommand: {
    kind: "string",
    default: "",
    secret: false,
    maxLength: MAX_LINE_LENGTH,
    description: "Build command run inside a fetched release; one line.",
    doc: { rule: ["one line", "한 줄"] },
  },
  releases: {
    kind: "object",
    secret: false,
    description: "Release ref per engine color.",
    doc: {
      type: ["object `{blue, green}`", "객체 `{blue, green}`"],
      default: [`\`${DEFAULT_RELEASE}\` each`, `각각 \`${DEFAULT_RELEASE}\``],
      rule: [`a git ref of ${RELEASE_REF_RULE}`, `git ref: ${RELEASE_REF_RULE}`],
    },
  },
  allowDeployToActive: {
    kind: "boolean",
    default: false,
    secret: false,
    description: "Allow a release to be deployed to the active engine (normally only the standby).",
    doc: { rule: ["", ""] },
  },
  rebuild: {
    kind: "object",
    secret: false,
    description:
      "Rebuild counter per engine color, and `gate`; raising one replaces that node (the gate only with acceptGateOutage).",
    doc: {
      type: ["object `{blue, green, gate}`", "객체 `{blue, green, gate}`"],
      default: ["`0` each", "각각 `0`"],
      rule: [
        "non-negative integers; `gate` needs `acceptGateOutage`",
        "0 이상의 정수; `gate`는 `acceptGateOutage` 필요",
      ],
    },
  },
  acceptGateOutage: {
    kind: "boolean",
    default: false,
    secret: false,
    description:
      "Accept the live outage of a gate rebuild (rebuild.gate); the tokens are kept on their volume.",
    doc: { rule: ["", ""] },
  },
} as const satisfies Readonly<Record<string, KeySpec>>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;
export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA) as ConfigKey[];

/** The schema entry of `key`, typed as a KeySpec. */
export function keySpec(key: ConfigKey): KeySpec {
  return CONFIG_SCHEMA[key];
}
