import type { D1Database } from "@cloudflare/workers-types";
import { drizzle } from "drizzle-orm/d1";
import { DEFAULT_PERSIST_TO, openLocalBindings, type LocalBindingsOptions } from "../runtime/local-bindings.ts";
import { DEFAULT_PAGE_SIZE, type LogSource } from "./log-source.ts";
import { sqlLogSource } from "./sql-pages.ts";

export interface LocalSourceOptions extends LocalBindingsOptions {
  pageSize?: number;
}

/** The logs `wrangler dev` wrote to its local D1. */
export async function openLocalSource(options: LocalSourceOptions = {}): Promise<LogSource> {
  const persistTo = options.persistTo ?? DEFAULT_PERSIST_TO;
  const bindings = await openLocalBindings(options);
  try {
    await requireTables(bindings.DB, persistTo);
  } catch (error) {
    await bindings.dispose();
    throw error;
  }
  return sqlLogSource(drizzle(bindings.DB), {
    description: `local D1 (${persistTo})`,
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
    close: bindings.dispose,
  });
}

/** A fresh state directory has an empty database: say how to fix that rather than "no such table". */
async function requireTables(db: D1Database, persistTo: string): Promise<void> {
  const { results } = await db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('decisions', 'outcomes')")
    .all<{ name: string }>();
  if (results.length < 2) {
    throw new Error(
      `the local D1 in ${persistTo} has no decisions/outcomes tables; ` +
        `apply the migrations first: npx wrangler d1 migrations apply edge-promo --local --persist-to ${persistTo}`,
    );
  }
}
