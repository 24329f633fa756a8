import { z } from "zod";
import {
  CloudflareApiError,
  cloudflareApiBase,
  cloudflareFetch,
  requireEnv,
  type CloudflareFetchOptions,
} from "../runtime/cloudflare-api.ts";

/** Where and as whom to query a D1 database through the Cloudflare REST API. */
export interface D1HttpConfig {
  accountId: string;
  databaseId: string;
  apiToken: string;
  /** API root, `https://api.cloudflare.com/client/v4` unless CLOUDFLARE_API_BASE_URL says otherwise. */
  baseUrl: string;
}

export function d1HttpConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): D1HttpConfig {
  const vars = requireEnv(
    env,
    ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_D1_DATABASE_ID", "CLOUDFLARE_API_TOKEN"],
    "reading remote D1",
    "an API token with D1 Read on the account",
  );
  return {
    accountId: vars.CLOUDFLARE_ACCOUNT_ID,
    databaseId: vars.CLOUDFLARE_D1_DATABASE_ID,
    apiToken: vars.CLOUDFLARE_API_TOKEN,
    baseUrl: cloudflareApiBase(env),
  };
}

export type D1HttpClientOptions = Omit<CloudflareFetchOptions, "permission">;

export interface RawResult {
  columns: string[];
  rows: unknown[][];
}

/** One statement against D1's `/raw` endpoint, which returns rows as arrays in column order. */
export type D1RawQuery = (sql: string, params: readonly unknown[]) => Promise<RawResult>;

const rawResponseSchema = z.object({
  success: z.literal(true),
  result: z
    .array(z.object({ results: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }) }))
    .min(1),
});

/** A D1 client over HTTP, with the retries of {@link cloudflareFetch}. */
export function d1RawClient(config: D1HttpConfig, options: D1HttpClientOptions = {}): D1RawQuery {
  const url = `${config.baseUrl}/accounts/${encodeURIComponent(config.accountId)}/d1/database/${encodeURIComponent(config.databaseId)}/raw`;
  return async (sql, params) => {
    const response = await cloudflareFetch(
      url,
      config.apiToken,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sql, params }) },
      { ...options, permission: "D1 Read on the account" },
    );
    const text = await response.text();
    const parsed = rawResponseSchema.safeParse(parseJson(text));
    if (!parsed.success)
      throw new CloudflareApiError(`unexpected D1 API response: ${text.slice(0, 200)}`, response.status);
    return parsed.data.result[0]!.results;
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
