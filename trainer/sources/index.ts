import { access } from "node:fs/promises";
import { d1HttpConfigFromEnv, type D1HttpClientOptions } from "./d1-http.ts";
import { fileSource } from "./file.ts";
import { openLocalSource, type LocalSourceOptions } from "./local.ts";
import type { LogSource } from "./log-source.ts";
import { remoteSource } from "./remote.ts";

export const SOURCE_SPECS = "local | remote | file:<path.jsonl>";

export interface OpenSourceOptions extends LocalSourceOptions, Pick<D1HttpClientOptions, "onRetry"> {
  /** Where the remote source finds its credentials; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The source a `--source` flag names:
 * - `local`: the D1 database `wrangler dev` persists (see `persistTo`);
 * - `remote`: production D1 through the Cloudflare API (CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_D1_DATABASE_ID, CLOUDFLARE_API_TOKEN);
 * - `file:<path>`: a JSONL export or import.
 */
export async function openLogSource(spec: string, options: OpenSourceOptions = {}): Promise<LogSource> {
  if (spec === "local") return openLocalSource(options);
  if (spec === "remote") return remoteSource(d1HttpConfigFromEnv(options.env), options);
  if (spec.startsWith("file:") && spec.length > "file:".length) {
    const path = spec.slice("file:".length);
    // Fail here, before any work, rather than on the first read.
    await access(path).catch(() => Promise.reject(new Error(`cannot read log file ${path}`)));
    return fileSource(path, options);
  }
  throw new Error(`unknown log source "${spec}"; expected ${SOURCE_SPECS}`);
}
