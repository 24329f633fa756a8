import { access } from "node:fs/promises";
import { d1HttpConfigFromEnv, type D1HttpClientOptions, type D1HttpConfig } from "./d1-http.ts";
import { localArchiveStore, openArchiveSource } from "./archive.ts";
import { r2S3ArchiveStore, r2S3ConfigFromEnv, type R2S3Config } from "./r2-s3.ts";
import { fileSource } from "./file.ts";
import { openLocalSource, type LocalSourceOptions } from "./local.ts";
import type { LogSource } from "./log-source.ts";
import { remoteSource } from "./remote.ts";

export const SOURCE_SPECS = "local | remote | archive | archive:r2 | file:<path.jsonl>";

/**
 * A `--source` flag, checked: where the logs are and, for remote D1, the credentials. Made before
 * any I/O, so that a typo fails at once rather than after a read.
 * - `local`: the D1 database `wrangler dev` persists (see `persistTo`);
 * - `remote`: production D1 through the Cloudflare API (CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_D1_DATABASE_ID, CLOUDFLARE_API_TOKEN);
 * - `archive`: the Parquet log archive in the R2 bucket `wrangler dev` persists (see `persistTo`);
 * - `archive:r2`: the same archive in a real R2 bucket, through its S3 API (R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, CLOUDFLARE_ACCOUNT_ID);
 * - `file:<path>`: a JSONL export or import.
 */
export type SourceSpec =
  | { kind: "local"; persistTo?: string }
  | { kind: "archive"; persistTo?: string }
  | { kind: "archive-r2"; config: R2S3Config }
  | { kind: "remote"; config: D1HttpConfig }
  | { kind: "file"; path: string };

export interface ParseSourceOptions {
  persistTo?: string;
  /** Where the remote source finds its credentials; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
}

export function parseSourceSpec(spec: string, options: ParseSourceOptions = {}): SourceSpec {
  if (spec === "local")
    return options.persistTo === undefined ? { kind: "local" } : { kind: "local", persistTo: options.persistTo };
  if (spec === "archive")
    return options.persistTo === undefined ? { kind: "archive" } : { kind: "archive", persistTo: options.persistTo };
  if (spec === "archive:r2") return { kind: "archive-r2", config: r2S3ConfigFromEnv(options.env) };
  if (spec === "remote") return { kind: "remote", config: d1HttpConfigFromEnv(options.env) };
  if (spec.startsWith("file:") && spec.length > "file:".length)
    return { kind: "file", path: spec.slice("file:".length) };
  throw new Error(`unknown log source "${spec}"; expected ${SOURCE_SPECS}`);
}

export type OpenSourceOptions = Omit<LocalSourceOptions, "persistTo"> & Pick<D1HttpClientOptions, "onRetry">;

export async function openLogSource(spec: SourceSpec, options: OpenSourceOptions = {}): Promise<LogSource> {
  switch (spec.kind) {
    case "local":
      return openLocalSource({ ...options, ...(spec.persistTo === undefined ? {} : { persistTo: spec.persistTo }) });
    case "archive":
      return openArchiveSource(await localArchiveStore(spec.persistTo));
    case "archive-r2":
      return openArchiveSource(r2S3ArchiveStore(spec.config));
    case "remote":
      return remoteSource(spec.config, options);
    case "file":
      // Fail here, before any work, rather than on the first read.
      await access(spec.path).catch(() => Promise.reject(new Error(`cannot read log file ${spec.path}`)));
      return fileSource(spec.path, options);
  }
}
