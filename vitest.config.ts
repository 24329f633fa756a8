import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { readMigrations } from "./scripts/migrations.ts";

process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

const migrations = readMigrations();

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            remoteBindings: false,
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                DECISION_SIGNING_KEY: "test-signing-key-0123456789abcdef",
                OUTCOME_API_KEY: "test-outcome-key-0123456789abcdef",
                ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
                TEST_MIGRATIONS: migrations,
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/edge/**/*.test.ts", "test/shared/**/*.test.ts"],
          setupFiles: ["./test/edge/apply-migrations.ts"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/trainer/**/*.test.ts", "test/sim/**/*.test.ts", "test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
