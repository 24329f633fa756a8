import type { D1Database, KVNamespace, R2Bucket } from "@cloudflare/workers-types";
import { join } from "node:path";
import { getPlatformProxy } from "wrangler";

/** Where `wrangler dev` and `wrangler d1 execute --local` keep their state unless told `--persist-to`. */
export const DEFAULT_PERSIST_TO = ".wrangler/state";

export interface LocalBindingsOptions {
  /** The same directory as wrangler's `--persist-to`; default `.wrangler/state`. */
  persistTo?: string;
  /** Default `wrangler.toml` in the working directory. */
  configPath?: string;
  /** A `[env.<name>]` section of the config. */
  environment?: string;
}

/** The Worker's storage bindings as `wrangler dev` sees them, usable from Node. */
export interface LocalBindings {
  DB: D1Database;
  POLICY: KVNamespace;
  /** The log archive (R2). */
  ARCHIVE: R2Bucket;
  dispose(): Promise<void>;
}

/**
 * Wrangler's `--persist-to <dir>` stores its data under `<dir>/v3`, while getPlatformProxy takes
 * the versioned path itself: translating here is what makes both see the same databases.
 */
function platformPersistPath(persistTo: string): string {
  return join(persistTo, "v3");
}

/**
 * Opens the local D1 database and KV namespace that `wrangler dev` persists, through wrangler's
 * platform proxy (a workerd process): the same storage code as the dev server, so rows written by
 * either side are seen by the other, and no SQLite file is ever parsed by hand.
 */
export async function openLocalBindings(options: LocalBindingsOptions = {}): Promise<LocalBindings> {
  // Miniflare otherwise downloads the request.cf template from the internet; storage needs none of it.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  // Wrangler's info lines ("Using secrets defined in .dev.vars") go to stdout, where `--json` output lives.
  process.env.WRANGLER_LOG ??= "warn";
  const proxy = await getPlatformProxy<Record<string, unknown>>({
    configPath: options.configPath ?? "wrangler.toml",
    environment: options.environment,
    persist: { path: platformPersistPath(options.persistTo ?? DEFAULT_PERSIST_TO) },
    remoteBindings: false,
  });
  const { DB, POLICY, ARCHIVE } = proxy.env;
  if (!isD1Database(DB) || !isKvNamespace(POLICY) || !isR2Bucket(ARCHIVE)) {
    await proxy.dispose();
    throw new Error(
      `${options.configPath ?? "wrangler.toml"} must bind a D1 database as DB, a KV namespace as POLICY and an R2 bucket as ARCHIVE`,
    );
  }
  return { DB, POLICY, ARCHIVE, dispose: () => proxy.dispose() };
}

function isR2Bucket(value: unknown): value is R2Bucket {
  return typeof value === "object" && value !== null && typeof (value as Partial<R2Bucket>).list === "function";
}

function isD1Database(value: unknown): value is D1Database {
  return typeof value === "object" && value !== null && typeof (value as Partial<D1Database>).prepare === "function";
}

function isKvNamespace(value: unknown): value is KVNamespace {
  return typeof value === "object" && value !== null && typeof (value as Partial<KVNamespace>).list === "function";
}
