import type { D1Database } from "@cloudflare/workers-types";

/** One file of migrations/, split into statements: the shape wrangler and the vitest pool use too. */
// A type alias, not an interface, so that it passes as JSON to a Miniflare binding.
export type Migration = {
  name: string;
  queries: string[];
};

/** drizzle-kit separates the statements of one migration file with this marker. */
const STATEMENT_BREAKPOINT = "--> statement-breakpoint";

/** A migration file's text as its statements. */
export function migrationOf(name: string, sql: string): Migration {
  return {
    name,
    queries: sql
      .split(STATEMENT_BREAKPOINT)
      .map((q) => q.trim())
      .filter(Boolean),
  };
}

// Wrangler's own bookkeeping table: a database migrated here is up to date for
// `wrangler d1 migrations apply`, and the other way round.
const TABLE = "d1_migrations";

/**
 * Applies, in order, the migrations `db` has not had yet; each one atomically with its record.
 * The one way this project migrates D1: the Worker tests inside workerd, the local emulation the
 * scripts start, and the bench all call it. Returns the names applied.
 */
export async function applyMigrations(db: D1Database, migrations: readonly Migration[]): Promise<string[]> {
  await db
    .prepare(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`,
    )
    .run();
  const done = new Set(
    (await db.prepare(`SELECT name FROM ${TABLE}`).all<{ name: string }>()).results.map((r) => r.name),
  );
  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.name)) continue;
    await db.batch([
      ...migration.queries.map((q) => db.prepare(q)),
      db.prepare(`INSERT INTO ${TABLE} (name) VALUES (?)`).bind(migration.name),
    ]);
    applied.push(migration.name);
  }
  return applied;
}
