import { openLocalBindings } from "../runtime/local-bindings.ts";
import type { PolicyKv } from "../../shared/policy-kv.ts";
import { remotePolicyKv, remoteKvConfigFromEnv, type RemoteKvConfig } from "./remote-kv.ts";

export const KV_TARGETS = ["local", "remote"] as const;

/** A `--target` flag, checked before any I/O: local KV under a state directory, or a real namespace and its credentials. */
export type KvTarget = { kind: "local"; persistTo?: string } | { kind: "remote"; config: RemoteKvConfig };

export function parseKvTarget(
  name: (typeof KV_TARGETS)[number],
  persistTo: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): KvTarget {
  if (name === "remote") return { kind: "remote", config: remoteKvConfigFromEnv(env) };
  return persistTo === undefined ? { kind: "local" } : { kind: "local", persistTo };
}

export interface OpenedKv {
  kv: PolicyKv;
  /** Where the policies live, for messages. */
  where: string;
  close(): Promise<void>;
}

/** The POLICY namespace: the one `wrangler dev` persists locally, or a real one through the Cloudflare API. */
export async function openPolicyKv(target: KvTarget): Promise<OpenedKv> {
  if (target.kind === "remote") {
    const { config } = target;
    return { kv: remotePolicyKv(config), where: `KV namespace ${config.namespaceId}`, close: async () => {} };
  }
  const { persistTo } = target;
  const bindings = await openLocalBindings(persistTo === undefined ? {} : { persistTo });
  return {
    kv: bindings.POLICY,
    where: `local KV in ${persistTo ?? ".wrangler/state"}`,
    close: () => bindings.dispose(),
  };
}
