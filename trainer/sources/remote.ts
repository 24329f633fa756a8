import { drizzle } from "drizzle-orm/sqlite-proxy";
import { d1RawClient, type D1HttpClientOptions, type D1HttpConfig } from "./d1-http.ts";
import { DEFAULT_PAGE_SIZE, type LogSource } from "./log-source.ts";
import { sqlLogSource } from "./sql-pages.ts";

export interface RemoteSourceOptions extends D1HttpClientOptions {
  pageSize?: number;
}

/**
 * The production logs, read through the Cloudflare D1 REST API. drizzle's sqlite-proxy driver turns
 * the same typed queries as the local source into SQL and maps the `/raw` endpoint's array rows back
 * to typed rows, so both sources share one definition of the paging.
 */
export function remoteSource(config: D1HttpConfig, options: RemoteSourceOptions = {}): LogSource {
  const query = d1RawClient(config, options);
  const db = drizzle(async (sql, params, method) => {
    // Paging only lists rows; `get` and `run` want other result shapes, and a log reader never writes.
    if (method !== "all" && method !== "values")
      throw new Error(`the remote log source does not run "${method}" queries`);
    return { rows: (await query(sql, params)).rows };
  });
  return sqlLogSource(db, {
    description: `remote D1 ${config.databaseId}`,
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
    close: async () => {},
  });
}
