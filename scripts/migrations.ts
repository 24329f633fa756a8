/** Reads migrations/ from disk for everything that runs in Node: vitest's config, the scripts, the bench. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrationOf, type Migration } from "../shared/d1-migrations.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

/** Every migration file, in name order (drizzle-kit numbers them). */
export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => migrationOf(f, readFileSync(path.join(dir, f), "utf8")));
}
