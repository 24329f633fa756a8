import { readdir } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { ArchiveTable } from "../../shared/archive.ts";
import { OUTCOME_KINDS, type DecisionRow, type OutcomeRow } from "../../shared/schema.ts";

/** The day partitions (`day=YYYY-MM-DD`) of `table` in an archive directory, oldest first; none when it has no such folder. */
export async function archiveDays(dir: string, table: ArchiveTable): Promise<string[]> {
  const entries = await readdir(path.join(dir, table)).catch(() => [] as string[]);
  return entries.filter((d) => d.startsWith("day=")).sort();
}

/** `text` as a DuckDB string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A decisions row as DuckDB reads it from a Parquet part (D1's column names). */
export const decisionSchema = z
  .object({
    id: z.string(),
    ts: z.bigint(),
    visitor_hash: z.string(),
    policy_version: z.string(),
    feature_spec_hash: z.string(),
    // Absent from parts archived before decisions carried it (read with union_by_name: null).
    catalogue_hash: z.string().nullable(),
    context: z.string(),
    features: z.string(),
    state_key: z.number(),
    eligible: z.string(),
    action: z.string(),
    propensity: z.number(),
    explored: z.boolean(),
    experiment_id: z.string().nullable(),
    arm: z.string().nullable(),
    shadow: z.string().nullable(),
  })
  .transform((r): DecisionRow => ({
    id: r.id,
    ts: Number(r.ts),
    visitorHash: r.visitor_hash,
    policyVersion: r.policy_version,
    featureSpecHash: r.feature_spec_hash,
    catalogueHash: r.catalogue_hash,
    context: r.context,
    features: r.features,
    stateKey: r.state_key,
    eligible: r.eligible,
    action: r.action,
    propensity: r.propensity,
    explored: r.explored,
    experimentId: r.experiment_id,
    arm: r.arm,
    shadow: r.shadow,
  }));

/** An outcomes row as DuckDB reads it from a Parquet part. */
export const outcomeSchema = z
  .object({
    decision_id: z.string(),
    ts: z.bigint(),
    kind: z.enum(OUTCOME_KINDS),
    value: z.number(),
    event_key: z.string(),
  })
  .transform((r): OutcomeRow => ({
    decisionId: r.decision_id,
    ts: Number(r.ts),
    kind: r.kind,
    value: r.value,
    eventKey: r.event_key,
  }));
