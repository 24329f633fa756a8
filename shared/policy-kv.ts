import type { PolicyModel } from "./policy/types.ts";

/**
 * The slice of a KV namespace the policy registry needs. A Workers `KVNamespace` (local, through
 * wrangler's platform proxy) satisfies it as is; the remote adapter speaks the Cloudflare API.
 */
export interface PolicyKv {
  get(key: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: ArrayBuffer | string, options?: { metadata?: PolicyListing }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix: string; cursor?: string }): Promise<{
    keys: { name: string; metadata?: unknown }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

/** What `promo policies` shows without downloading every policy: stored as KV metadata (≤ 1 KiB). */
export interface PolicyListing {
  version: string;
  algorithm: PolicyModel["algorithm"];
  createdAt: string;
  bytes: number;
  sha256: string;
  dataFrom: string | null;
  dataTo: string | null;
  estimate: { estimator: string; value: number; lower: number; upper: number } | null;
}
