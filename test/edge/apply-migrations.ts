import { env } from "cloudflare:workers";
import { applyMigrations } from "../../shared/d1-migrations.ts";

await applyMigrations(env.DB, env.TEST_MIGRATIONS);
