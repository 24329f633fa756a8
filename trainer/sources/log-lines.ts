import { z } from "zod";
import { OUTCOME_KINDS, type DecisionRow, type OutcomeRow } from "../../shared/schema.ts";
import { logMetaSchema, type LogMeta } from "../data/log-meta.ts";

/**
 * One line of the JSONL log format: a {@link LogMessage} (what the edge queues, and what
 * `promo export` writes), or the meta line that may open the file. Only the shape is checked here;
 * whether a row makes sense (a known action, a valid propensity, ...) is the dataset builder's call,
 * so that rows from every source are judged the same way.
 */

const decisionRowSchema = z.object({
  id: z.string().min(1),
  ts: z.number(),
  visitorHash: z.string(),
  policyVersion: z.string(),
  featureSpecHash: z.string(),
  // Absent from exports made before decisions carried it.
  catalogueHash: z.string().nullable().default(null),
  context: z.string(),
  features: z.string(),
  stateKey: z.number(),
  eligible: z.string(),
  action: z.string(),
  propensity: z.number(),
  explored: z.boolean(),
  // Absent from exports made before experiments existed: read as "in no experiment".
  experimentId: z.string().nullable().default(null),
  arm: z.string().nullable().default(null),
  shadow: z.string().nullable().default(null),
}) satisfies z.ZodType<DecisionRow>;

const outcomeRowSchema = z.object({
  decisionId: z.string().min(1),
  ts: z.number(),
  kind: z.enum(OUTCOME_KINDS),
  value: z.number(),
  eventKey: z.string(),
}) satisfies z.ZodType<OutcomeRow>;

/** Which table a line belongs to; lines whose table cannot be told are counted with the decisions. */
export type LineTable = "decisions" | "outcomes";

export type ParsedLine =
  | { kind: "meta"; meta: LogMeta }
  | { kind: "invalid-meta"; detail: string }
  | { kind: "decision"; row: DecisionRow }
  | { kind: "outcome"; row: OutcomeRow }
  | { kind: "rejected"; table: LineTable; reason: string };

export function parseLogLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "rejected", table: "decisions", reason: "bad-json" };
  }
  const type = typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
  switch (type) {
    case "meta": {
      const meta = logMetaSchema.safeParse(value);
      return meta.success
        ? { kind: "meta", meta: meta.data }
        : { kind: "invalid-meta", detail: z.prettifyError(meta.error) };
    }
    case "decision": {
      const row = decisionRowSchema.safeParse((value as { row?: unknown }).row);
      return row.success
        ? { kind: "decision", row: row.data }
        : { kind: "rejected", table: "decisions", reason: "invalid-decision-row" };
    }
    case "outcome": {
      const row = outcomeRowSchema.safeParse((value as { row?: unknown }).row);
      return row.success
        ? { kind: "outcome", row: row.data }
        : { kind: "rejected", table: "outcomes", reason: "invalid-outcome-row" };
    }
    default:
      return { kind: "rejected", table: "decisions", reason: "unknown-type" };
  }
}
