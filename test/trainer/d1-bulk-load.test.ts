import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import { applyLocalMigrations } from "../../scripts/local-env.ts";
import { bulkLoadLogRows, MAX_STATEMENT_BYTES } from "../../trainer/runtime/d1-bulk-load.ts";
import { openLocalBindings } from "../../trainer/runtime/local-bindings.ts";
import { openLocalSource } from "../../trainer/sources/local.ts";
import { readAllLogs } from "../../trainer/sources/read-all.ts";
import { decisionRow, outcomeRow } from "./support/log-rows.ts";

let persistTo: string;
beforeAll(async () => {
  await mkdir(".tmp", { recursive: true });
  persistTo = await mkdtemp(join(".tmp", "bulk-load-"));
  await applyLocalMigrations(persistTo);
});
afterAll(() => rm(persistTo, { recursive: true, force: true }));

const byId = <Row extends { id: string } | { decisionId: string; kind: string }>(rows: readonly Row[]) =>
  [...rows].sort((a, b) => {
    const key = (r: Row) => ("id" in r ? r.id : `${r.decisionId}/${r.kind}`);
    return key(a) < key(b) ? -1 : 1;
  });

async function load(rows: { decisions: DecisionRow[]; outcomes: OutcomeRow[] }): Promise<void> {
  const bindings = await openLocalBindings({ persistTo });
  try {
    await bulkLoadLogRows(bindings.DB, rows);
  } finally {
    await bindings.dispose();
  }
}

describe("bulk loading log rows into local D1", () => {
  test("stores every row exactly as the Worker's rows read back, over many statements, and skips stored keys", async () => {
    // Rows long enough that 50 of them pass D1's statement size: the loader must split them.
    const padding = "x".repeat(Math.ceil((2 * MAX_STATEMENT_BYTES) / 50));
    const decisions = Array.from({ length: 130 }, (_, i) =>
      decisionRow({
        id: `d-${String(i).padStart(3, "0")}`,
        ts: 1_000 + i,
        // Quotes and non-ASCII text are escaped into the SQL, not cut by it.
        visitorHash: i % 2 === 0 ? `visitor-'${i}'` : `visiteur-é-${i}`,
        explored: i % 3 === 0,
        propensity: 0.95 - i / 1000,
        experimentId: i % 5 === 0 ? "exp-1" : null,
        arm: i % 5 === 0 ? "candidate" : null,
        shadow: i < 60 ? JSON.stringify({ padding }) : null,
      }),
    );
    const outcomes = decisions
      .filter((_, i) => i % 4 === 0)
      .flatMap((d, i) => [
        outcomeRow({ decisionId: d.id, ts: d.ts + 10 }),
        outcomeRow({ decisionId: d.id, ts: d.ts + 20, kind: "conversion", value: 12.34 + i, eventKey: `order-'${i}` }),
      ]);

    await load({ decisions, outcomes });
    // Loading again stores nothing twice: keys already stored are skipped.
    await load({ decisions: decisions.slice(0, 10), outcomes: outcomes.slice(0, 4) });

    const source = await openLocalSource({ persistTo });
    try {
      await expect(source.total!()).resolves.toEqual({ decisions: decisions.length, outcomes: outcomes.length });
      const logs = await readAllLogs(source, { quiet: true });
      expect(byId(logs.decisions)).toEqual(byId(decisions));
      expect(byId(logs.outcomes)).toEqual(byId(outcomes));
    } finally {
      await source.close();
    }
  });
});
