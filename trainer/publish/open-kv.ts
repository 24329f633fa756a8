import { openLocalBindings } from "../runtime/local-bindings.ts";
import type { PolicyKv } from "./policy-kv.ts";
import { remotePolicyKv, remoteKvConfigFromEnv } from "./remote-kv.ts";

export type KvTarget = "local" | "remote";

export interface OpenedKv {
  kv: PolicyKv;
  /** Where the policies live, for messages. */
  where: string;
  close(): Promise<void>;
}

/** The POLICY namespace: the one `wrangler dev` persists locally, or a real one through the Cloudflare API. */
export async function openPolicyKv(target: KvTarget, persistTo?: string): Promise<OpenedKv> {
  if (target === "remote") {
    const config = remoteKvConfigFromEnv();
    return { kv: remotePolicyKv(config), where: `KV namespace ${config.namespaceId}`, close: async () => {} };
  }
  const bindings = await openLocalBindings(persistTo === undefined ? {} : { persistTo });
  return {
    kv: bindings.POLICY,
    where: `local KV in ${persistTo ?? ".wrangler/state"}`,
    close: () => bindings.dispose(),
  };
}
