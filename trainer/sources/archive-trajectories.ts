import { readdir } from "node:fs/promises";
import path from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import { OUTCOME_KINDS } from "../../shared/schema.ts";
import type { DecisionWithOutcomes, TrajectoryStream } from "../data/build-dataset.ts";
import type { SkipCounts } from "../data/dataset.ts";
import { archiveDays, decisionSchema, outcomeSchema, sqlString } from "./archive-rows.ts";

/**
 * How many decisions one query sorts. DuckDB's memory limit does not hold for a sort of the whole
 * archive (a 5M-decision sort ran out of its 512 MB), so the archive is cut into ranges of
 * visitors, each small enough to sort in memory, and read range after range: the ranges are
 * ordered, so the rows still come in trajectory order, and a visitor never spans two of them.
 */
const VISITOR_RANGE_ROWS = 200_000;

const KINDS = OUTCOME_KINDS.map((kind) => `'${kind}'`).join(", ");
const VALID_OUTCOME = `kind IN (${KINDS}) AND isfinite(value) AND value >= 0`;

/** A half-open range of visitor hashes; an open end is unbounded. */
interface VisitorRange {
  from?: string;
  to?: string;
}

/**
 * The query that reads one range of visitors as trajectories: each decision in the order of its
 * visitor's page views, with the outcomes reported for it. The rest of a transition (checks,
 * encoding, attribution window, reward, next state) is the dataset builder's, which reads the rows
 * in this order. Outcome copies (a part archived twice) collapse to one per key; decision copies
 * arrive side by side and the reader keeps the first.
 */
function trajectoriesQuery(decisionParts: string, outcomeParts: string | undefined, range: VisitorRange): string {
  const bounds = [
    range.from === undefined ? undefined : `visitor_hash >= ${sqlString(range.from)}`,
    range.to === undefined ? undefined : `visitor_hash < ${sqlString(range.to)}`,
  ].filter((b) => b !== undefined);
  return `WITH decision AS (
  SELECT * FROM read_parquet(${sqlString(decisionParts)}, hive_partitioning = false, union_by_name = true)
  ${bounds.length > 0 ? `WHERE ${bounds.join(" AND ")}` : ""}
),
${outcomeCte(outcomeParts, "decision_id IN (SELECT id FROM decision)")},
reported AS (
  SELECT decision_id, list({decision_id: decision_id, ts: ts, kind: kind, value: value, event_key: event_key}) AS outcomes
  FROM outcome WHERE ${VALID_OUTCOME}
  GROUP BY decision_id
)
SELECT d.*, r.outcomes
FROM decision AS d LEFT JOIN reported AS r ON r.decision_id = d.id
ORDER BY d.visitor_hash, d.ts, d.id`;
}

/** Outcomes that no decision could use whatever it was, by reason as the builder names them, and the rest. */
function outcomeCountsQuery(outcomeParts: string): string {
  return `WITH ${outcomeCte(outcomeParts)}
SELECT CASE WHEN coalesce(${VALID_OUTCOME}, false) THEN 'valid'
            WHEN kind IN (${KINDS}) THEN 'outcome:bad-value'
            ELSE 'outcome:unknown-kind' END AS reason,
       count(*) AS count
FROM outcome GROUP BY reason`;
}

function outcomeCte(outcomeParts: string | undefined, where?: string): string {
  const rows =
    outcomeParts === undefined
      ? `SELECT NULL::VARCHAR AS decision_id, NULL::BIGINT AS ts, NULL::VARCHAR AS kind, NULL::DOUBLE AS value, NULL::VARCHAR AS event_key WHERE false`
      : `SELECT * FROM read_parquet(${sqlString(outcomeParts)}, hive_partitioning = false, union_by_name = true)`;
  return `outcome AS (
  SELECT decision_id, kind, event_key, any_value(ts) AS ts, any_value(value) AS value
  FROM (${rows}) ${where ? `WHERE ${where}` : ""}
  GROUP BY decision_id, kind, event_key
)`;
}

const countRowSchema = z.object({ reason: z.string(), count: z.bigint() });
const totalRowSchema = z.object({ count: z.bigint() });
const visitorRowSchema = z.object({ visitor_hash: z.string() });
const outcomesColumnSchema = z.object({ outcomes: z.array(outcomeSchema).nullable() });

/**
 * The archive in `dir` (laid out as shared/archive.ts says) as a {@link TrajectoryStream}, read one
 * range of visitors at a time so that memory does not grow with the archive.
 */
export function archiveTrajectories(
  connection: DuckDBConnection,
  dir: string,
  rangeRows = VISITOR_RANGE_ROWS,
): TrajectoryStream {
  const skipped: SkipCounts = {};
  async function* chunks(): AsyncGenerator<DecisionWithOutcomes[]> {
    const decisionParts = await partsGlob(dir, "decisions");
    const outcomeParts = await partsGlob(dir, "outcomes");
    let unmatched = 0;
    if (outcomeParts !== undefined) {
      const counts = await connection.run(outcomeCountsQuery(outcomeParts));
      for (const row of await counts.getRowObjectsJS()) {
        const { reason, count } = countRowSchema.parse(row);
        if (reason === "valid") unmatched = Number(count);
        else skipped[reason] = Number(count);
      }
    }
    if (decisionParts !== undefined) {
      let previousId: string | undefined;
      for (const range of await visitorRanges(connection, decisionParts, rangeRows)) {
        const result = await connection.stream(trajectoriesQuery(decisionParts, outcomeParts, range));
        for await (const rows of result.yieldRowObjectJs()) {
          const groups: DecisionWithOutcomes[] = [];
          for (const row of rows) {
            const decision = decisionSchema.parse(row);
            if (decision.id === previousId) continue;
            previousId = decision.id;
            const outcomes = outcomesColumnSchema.parse(row).outcomes ?? [];
            unmatched -= outcomes.length;
            groups.push({ decision, outcomes });
          }
          if (groups.length > 0) yield groups;
        }
      }
    }
    if (unmatched > 0) skipped["outcome:without-decision"] = unmatched;
  }
  return { chunks: chunks(), skipped: () => skipped };
}

/**
 * Ranges of visitor hashes that each hold about `rangeRows` decisions, cut at the
 * quantiles of a reservoir sample (bounded memory). One visitor's decisions all fall in one range.
 */
async function visitorRanges(
  connection: DuckDBConnection,
  decisionParts: string,
  rangeRows: number,
): Promise<VisitorRange[]> {
  const parts = `read_parquet(${sqlString(decisionParts)}, hive_partitioning = false, union_by_name = true)`;
  const [total] = await (await connection.run(`SELECT count(*) AS count FROM ${parts}`)).getRowObjectsJS();
  const rangeCount = Math.ceil(Number(totalRowSchema.parse(total).count) / rangeRows);
  if (rangeCount <= 1) return [{}];
  // Sorted by DuckDB, so that the cuts follow the order its range predicates compare in.
  const sample = await connection.run(
    `SELECT visitor_hash FROM (SELECT visitor_hash FROM ${parts} USING SAMPLE reservoir(${rangeCount * 200} ROWS) REPEATABLE (1)) ORDER BY visitor_hash`,
  );
  const hashes = (await sample.getRowObjectsJS()).map((row) => visitorRowSchema.parse(row).visitor_hash);
  const cuts = [
    ...new Set(
      Array.from({ length: rangeCount - 1 }, (_, i) => hashes[Math.floor(((i + 1) * hashes.length) / rangeCount)]!),
    ),
  ];
  return [{ to: cuts[0]! }, ...cuts.slice(1).map((to, i) => ({ from: cuts[i]!, to })), { from: cuts.at(-1)! }];
}

/** The glob of `table`'s parts under `dir`, or undefined when it has none (DuckDB refuses an empty glob). */
async function partsGlob(dir: string, table: "decisions" | "outcomes"): Promise<string | undefined> {
  for (const day of await archiveDays(dir, table)) {
    const files = await readdir(path.join(dir, table, day));
    if (files.some((f) => f.endsWith(".parquet"))) return path.join(dir, table, "day=*", "*.parquet");
  }
  return undefined;
}
