import type { Migration } from "../shared/d1-migrations.ts";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: Migration[];
    }
  }
}
