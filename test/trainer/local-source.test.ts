import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { drizzle } from "drizzle-orm/d1";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decisions as decisionsTable, outcomes as outcomesTable } from "../../shared/schema.ts";
import { openLocalBindings } from "../../trainer/runtime/local-bindings.ts";
import { openLocalSource } from "../../trainer/sources/local.ts";
import { readAllLogs } from "../../trainer/sources/read-all.ts";
import { decisionRow, outcomeRow } from "./support/log-rows.ts";
import { POLICY_POINTER_KEY } from "../../shared/policy-store.ts";

const run = promisify(execFile);
const WRANGLER_ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

/** The wrangler CLI against a throwaway state directory, exactly as an operator would run it. */
async function wrangler(persistTo: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ["node_modules/wrangler/bin/wrangler.js", ...args, "--local", "--persist-to", persistTo],
    {
      env: WRANGLER_ENV,
    },
  );
  return stdout;
}

let persistTo: string;
beforeAll(async () => {
  await mkdir(".tmp", { recursive: true });
  persistTo = await mkdtemp(join(".tmp", "local-source-"));
});
afterAll(() => rm(persistTo, { recursive: true, force: true }));

describe("local D1 source", () => {
  test("says to apply the migrations when the local database has no tables", async () => {
    await expect(openLocalSource({ persistTo })).rejects.toThrow(
      /no decisions\/outcomes tables; apply the migrations first/,
    );
  });

  test("reads rows written by `wrangler d1 execute --local` and through the platform proxy", async () => {
    await wrangler(persistTo, "d1", "migrations", "apply", "edge-promo");
    const first = decisionRow({ id: "cli-1", ts: 1000, explored: true });
    const second = decisionRow({ id: "cli-2", ts: 1000, action: "none", explored: false });
    const insert = [first, second]
      .map(
        (r) =>
          `INSERT INTO decisions VALUES ('${r.id}', ${r.ts}, '${r.visitorHash}', '${r.policyVersion}', '${r.featureSpecHash}', ` +
          `'${r.context}', '${r.features}', ${r.stateKey}, '${r.eligible}', '${r.action}', ${r.propensity}, ${r.explored ? 1 : 0}, NULL, NULL, NULL, 0, '${r.catalogueHash}');`,
      )
      .join(" ");
    await wrangler(
      persistTo,
      "d1",
      "execute",
      "edge-promo",
      "--command",
      `${insert} INSERT INTO outcomes VALUES ('cli-1', 2000, 'click', 0, '', 0);`,
    );

    // Rows written through the bindings land in the same persisted database.
    const viaProxy = decisionRow({ id: "proxy-1", ts: 500, visitorHash: "visitor-b" });
    const proxyOutcome = outcomeRow({
      decisionId: "proxy-1",
      ts: 3000,
      kind: "conversion",
      value: 42,
      eventKey: "order-1",
    });
    const bindings = await openLocalBindings({ persistTo });
    try {
      await drizzle(bindings.DB).insert(decisionsTable).values(viaProxy);
      await drizzle(bindings.DB).insert(outcomesTable).values(proxyOutcome);
      await bindings.POLICY.put(POLICY_POINTER_KEY, '{"version":"v1"}');
    } finally {
      await bindings.dispose();
    }

    const source = await openLocalSource({ persistTo, pageSize: 2 });
    try {
      await expect(source.total!()).resolves.toEqual({ decisions: 3, outcomes: 2 });
      const logs = await readAllLogs(source, { quiet: true });
      expect(logs.decisions).toEqual([viaProxy, first, second]);
      expect(logs.outcomes).toEqual([outcomeRow({ decisionId: "cli-1", ts: 2000 }), proxyOutcome]);
    } finally {
      await source.close();
    }

    // The KV namespace is shared with wrangler too (what `promo publish --target local` relies on).
    expect((await wrangler(persistTo, "kv", "key", "get", "policy:current", "--binding", "POLICY")).trim()).toBe(
      '{"version":"v1"}',
    );
  });
});
