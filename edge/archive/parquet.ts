import { parquetWriteBuffer } from "hyparquet-writer";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";

/**
 * Log rows as Parquet (snappy), with D1's column names and types, so that a reader sees the same
 * table in both tiers. The JSON-in-text columns (context, features, eligible) stay text, as in D1.
 */
export function decisionsParquet(rows: readonly DecisionRow[]): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: [
      { name: "id", data: rows.map((r) => r.id), type: "STRING", nullable: false },
      { name: "ts", data: rows.map((r) => BigInt(r.ts)), type: "INT64", nullable: false },
      { name: "visitor_hash", data: rows.map((r) => r.visitorHash), type: "STRING", nullable: false },
      { name: "policy_version", data: rows.map((r) => r.policyVersion), type: "STRING", nullable: false },
      { name: "feature_spec_hash", data: rows.map((r) => r.featureSpecHash), type: "STRING", nullable: false },
      { name: "catalogue_hash", data: rows.map((r) => r.catalogueHash ?? null), type: "STRING" },
      { name: "context", data: rows.map((r) => r.context), type: "STRING", nullable: false },
      { name: "features", data: rows.map((r) => r.features), type: "STRING", nullable: false },
      { name: "state_key", data: rows.map((r) => r.stateKey), type: "INT32", nullable: false },
      { name: "eligible", data: rows.map((r) => r.eligible), type: "STRING", nullable: false },
      { name: "action", data: rows.map((r) => r.action), type: "STRING", nullable: false },
      { name: "propensity", data: rows.map((r) => r.propensity), type: "DOUBLE", nullable: false },
      { name: "explored", data: rows.map((r) => r.explored), type: "BOOLEAN", nullable: false },
      { name: "experiment_id", data: rows.map((r) => r.experimentId ?? null), type: "STRING" },
      { name: "arm", data: rows.map((r) => r.arm ?? null), type: "STRING" },
      { name: "shadow", data: rows.map((r) => r.shadow ?? null), type: "STRING" },
    ],
  });
}

export function outcomesParquet(rows: readonly OutcomeRow[]): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: [
      { name: "decision_id", data: rows.map((r) => r.decisionId), type: "STRING", nullable: false },
      { name: "ts", data: rows.map((r) => BigInt(r.ts)), type: "INT64", nullable: false },
      { name: "kind", data: rows.map((r) => r.kind), type: "STRING", nullable: false },
      { name: "value", data: rows.map((r) => r.value), type: "DOUBLE", nullable: false },
      { name: "event_key", data: rows.map((r) => r.eventKey), type: "STRING", nullable: false },
    ],
  });
}
