import { z } from "zod";
import {
  cloudflareFetch,
  cloudflareApiBase,
  requireEnv,
  type CloudflareFetchOptions,
} from "../runtime/cloudflare-api.ts";
import type { PolicyKv, PolicyListing } from "../../shared/policy-kv.ts";

export interface RemoteKvConfig {
  accountId: string;
  namespaceId: string;
  apiToken: string;
  baseUrl: string;
}

export function remoteKvConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): RemoteKvConfig {
  const vars = requireEnv(
    env,
    ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_KV_NAMESPACE_ID", "CLOUDFLARE_API_TOKEN"],
    "publishing to remote KV",
    "an API token with Workers KV Storage Edit",
  );
  return {
    accountId: vars.CLOUDFLARE_ACCOUNT_ID,
    namespaceId: vars.CLOUDFLARE_KV_NAMESPACE_ID,
    apiToken: vars.CLOUDFLARE_API_TOKEN,
    baseUrl: cloudflareApiBase(env),
  };
}

const listSchema = z.object({
  result: z.array(z.object({ name: z.string(), metadata: z.unknown().optional() })),
  result_info: z.object({ cursor: z.string().optional().nullable() }).optional(),
});

/** The policy registry's KV operations over the Cloudflare REST API (values, metadata, key listing). */
export function remotePolicyKv(config: RemoteKvConfig, options: CloudflareFetchOptions = {}): PolicyKv {
  const namespace = `${config.baseUrl}/accounts/${encodeURIComponent(config.accountId)}/storage/kv/namespaces/${encodeURIComponent(config.namespaceId)}`;
  const permission = "Workers KV Storage Edit";
  const valueUrl = (key: string) => `${namespace}/values/${encodeURIComponent(key)}`;

  async function get(key: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  async function get(key: string, type: "text"): Promise<string | null>;
  async function get(key: string, type: "arrayBuffer" | "text"): Promise<ArrayBuffer | string | null> {
    const response = await cloudflareFetch(
      valueUrl(key),
      config.apiToken,
      {},
      { ...options, permission, notFound: "null" },
    );
    if (response === null) return null;
    return type === "text" ? response.text() : response.arrayBuffer();
  }

  return {
    get,
    async put(key: string, value: ArrayBuffer | string, putOptions?: { metadata?: PolicyListing }) {
      const form = new FormData();
      form.set("value", new Blob([value]));
      form.set("metadata", JSON.stringify(putOptions?.metadata ?? {}));
      await cloudflareFetch(valueUrl(key), config.apiToken, { method: "PUT", body: form }, { ...options, permission });
    },
    async delete(key: string) {
      await cloudflareFetch(valueUrl(key), config.apiToken, { method: "DELETE" }, { ...options, permission });
    },
    async list({ prefix, cursor }) {
      const query = new URLSearchParams({ prefix, limit: "1000", ...(cursor ? { cursor } : {}) });
      const response = await cloudflareFetch(
        `${namespace}/keys?${query}`,
        config.apiToken,
        {},
        { ...options, permission },
      );
      const page = listSchema.parse(await response.json());
      const next = page.result_info?.cursor ?? "";
      return { keys: page.result, list_complete: next === "", cursor: next || undefined };
    },
  };
}
