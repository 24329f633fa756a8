import { AwsClient } from "aws4fetch";
import { XMLParser } from "fast-xml-parser";
import { z } from "zod";
import { requireEnv } from "../runtime/cloudflare-api.ts";
import type { ArchiveStore } from "./archive.ts";

export const DEFAULT_ARCHIVE_BUCKET = "edge-promo-archive";

/** A real R2 bucket through its S3-compatible API: where, and the key pair (an R2 API token's). */
export interface R2S3Config {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * From the environment: R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, and CLOUDFLARE_ACCOUNT_ID (the
 * endpoint is https://<account>.r2.cloudflarestorage.com, unless R2_ENDPOINT says otherwise);
 * R2_BUCKET defaults to the bucket wrangler.toml binds. Checked before any I/O.
 */
export function r2S3ConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): R2S3Config {
  const keys = requireEnv(
    env,
    ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"],
    "reading the archive from R2",
    "an R2 API token (Object Read)",
  );
  const endpoint =
    env.R2_ENDPOINT ||
    `https://${requireEnv(env, ["CLOUDFLARE_ACCOUNT_ID"], "reading the archive from R2", "the account id").CLOUDFLARE_ACCOUNT_ID}.r2.cloudflarestorage.com`;
  return {
    endpoint: endpoint.replace(/\/+$/, ""),
    bucket: env.R2_BUCKET || DEFAULT_ARCHIVE_BUCKET,
    accessKeyId: keys.R2_ACCESS_KEY_ID,
    secretAccessKey: keys.R2_SECRET_ACCESS_KEY,
  };
}

const listSchema = z.object({
  ListBucketResult: z.object({
    Contents: z.array(z.object({ Key: z.string() })).optional(),
    IsTruncated: z.enum(["true", "false"]).optional(),
    NextContinuationToken: z.string().optional(),
  }),
});

/** Lists and fetches archive parts with signed S3 requests (ListObjectsV2, GetObject). */
export function r2S3ArchiveStore(config: R2S3Config): ArchiveStore {
  const client = new AwsClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    service: "s3",
    region: "auto",
  });
  // Every value as text: a key or a token that looks like a number stays what it is.
  const parser = new XMLParser({ isArray: (name) => name === "Contents", parseTagValue: false });
  const bucketUrl = `${config.endpoint}/${encodeURIComponent(config.bucket)}`;
  const refused = async (what: string, response: Response) =>
    new Error(`R2 refused ${what} (HTTP ${response.status}): ${(await response.text()).slice(0, 300)}`);
  return {
    description: `the archive in R2 bucket ${config.bucket}`,
    async *keys(prefix) {
      let token: string | undefined;
      do {
        const query = new URLSearchParams({
          "list-type": "2",
          prefix,
          ...(token ? { "continuation-token": token } : {}),
        });
        const response = await client.fetch(`${bucketUrl}?${query}`);
        if (!response.ok) throw await refused(`listing ${prefix}`, response);
        const page = listSchema.parse(parser.parse(await response.text())).ListBucketResult;
        for (const object of page.Contents ?? []) yield object.Key;
        token = page.IsTruncated === "true" ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async get(key) {
      const response = await client.fetch(`${bucketUrl}/${key.split("/").map(encodeURIComponent).join("/")}`);
      if (response.status === 404) return null;
      if (!response.ok) throw await refused(`reading ${key}`, response);
      return new Uint8Array(await response.arrayBuffer());
    },
    close: async () => {},
  };
}
