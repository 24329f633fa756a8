import type { LogMessage } from "../../shared/schema.ts";
import { decisionsFirst, selectByDecisionIds, storedDecisionIds, writeLogMessages } from "./d1-writer.ts";
import { readConfig } from "../config.ts";
import { errorText, type LogLoss } from "./log-shipper.ts";

const FIRST_RETRY_SECONDS = 30;
const LONGEST_RETRY_SECONDS = 3600;

/**
 * How long a message waits before its next attempt: 30 s, doubling per attempt, at most an hour.
 * With `max_retries = 10` (wrangler.toml) the waits add up to 14,610 s: a D1 outage of up to about
 * 4 hours loses nothing. Beyond that a message goes to the dead-letter queue, where it is kept, not
 * dropped. Retries without a delay would spend all ten attempts within seconds.
 */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/**
 * An outcome can overtake its decision (the decision's message was retried, or sits in another
 * batch). Written now it would be an orphan that joins nothing; it is held instead, retried with the
 * same growing delays until its decision is in D1. Returns the messages ready to write.
 */
async function holdOrphanOutcomes(
  messages: readonly Message<LogMessage>[],
  db: D1Database,
): Promise<{ ready: Message<LogMessage>[]; stored: ReadonlySet<string> }> {
  const inBatch = new Set(messages.flatMap((m) => (m.body.type === "decision" ? [m.body.row.id] : [])));
  const wanted = [
    ...new Set(
      messages.flatMap((m) =>
        m.body.type === "outcome" && !inBatch.has(m.body.row.decisionId) ? [m.body.row.decisionId] : [],
      ),
    ),
  ];
  const stored = await storedDecisionIds(db, wanted);
  const ready: Message<LogMessage>[] = [];
  for (const message of messages) {
    const body = message.body;
    if (body.type === "outcome" && !inBatch.has(body.row.decisionId) && !stored.has(body.row.decisionId)) {
      hold(message, body.row.decisionId);
    } else {
      ready.push(message);
    }
  }
  return { ready, stored };
}

function hold(message: Message<LogMessage>, decisionId: string): void {
  console.warn(
    `outcome ${message.id} is ahead of its decision ${decisionId}; held for ${retryDelaySeconds(message.attempts)} s`,
  );
  message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
}

/**
 * At most `cap` outcomes of one kind per decision are stored: a script holding one decision id (and
 * the visitor's cookie) cannot stuff the logs with conversions. Those beyond are acknowledged
 * unwritten, counted in `logLoss.capped` and printed, so that an operator sees them. Two batches
 * written at the same moment can each let one more through.
 */
async function capOutcomes(
  messages: readonly Message<LogMessage>[],
  db: D1Database,
  cap: number,
  loss: LogLoss,
): Promise<Message<LogMessage>[]> {
  const decisionIds = [...new Set(messages.flatMap((m) => (m.body.type === "outcome" ? [m.body.row.decisionId] : [])))];
  const rows = await selectByDecisionIds<{ id: string; kind: string; n: number }>(
    db,
    decisionIds,
    (list) =>
      `SELECT decision_id AS id, kind, count(*) AS n FROM outcomes WHERE decision_id IN (${list}) GROUP BY decision_id, kind`,
  );
  const counts = new Map(rows.map((row) => [`${row.id} ${row.kind}`, row.n]));
  const kept: Message<LogMessage>[] = [];
  for (const message of messages) {
    const body = message.body;
    if (body.type === "outcome") {
      const slot = `${body.row.decisionId} ${body.row.kind}`;
      const n = counts.get(slot) ?? 0;
      if (n >= cap) {
        loss.capped++;
        console.warn(
          `outcome over the cap of ${cap} ${body.row.kind}s per decision, not stored: ${JSON.stringify(body)}`,
        );
        message.ack();
        continue;
      }
      counts.set(slot, n + 1);
    }
    kept.push(message);
  }
  return kept;
}

/**
 * Writes a batch of log messages to D1, holding back outcomes whose decision is not there yet. When
 * the batch write fails, each message is tried on its own: one bad row then holds back only itself,
 * and when D1 itself is down every message is retried, so nothing is acknowledged unwritten.
 */
export async function consumeLogBatch(batch: MessageBatch<LogMessage>, env: Env, loss: LogLoss): Promise<void> {
  let ready: readonly Message<LogMessage>[];
  let storedDecisions: ReadonlySet<string> = new Set();
  try {
    const checked = await holdOrphanOutcomes(batch.messages, env.DB);
    storedDecisions = checked.stored;
    ready = await capOutcomes(checked.ready, env.DB, readConfig(env).maxOutcomesPerDecision, loss);
  } catch (error) {
    // D1 cannot even be read: the writes below fail too, and every message is retried.
    ready = batch.messages;
    console.error(`checking for outcomes ahead of their decisions failed: ${errorText(error)}`);
  }
  try {
    await writeLogMessages(
      env.DB,
      ready.map((m) => m.body),
    );
    if (ready.length === batch.messages.length) batch.ackAll();
    // Held outcomes were retried and capped ones acknowledged already.
    else for (const message of ready) message.ack();
    return;
  } catch (error) {
    console.error(`writing ${ready.length} log messages to D1 failed, retrying them one by one: ${errorText(error)}`);
  }
  // Decisions first; then an outcome only if its decision is now known to be in D1, else an outcome
  // whose decision failed beside it would be stored as an orphan.
  const written = new Set(storedDecisions);
  for (const message of decisionsFirst(ready)) {
    const body = message.body;
    if (body.type === "outcome" && !written.has(body.row.decisionId)) {
      hold(message, body.row.decisionId);
      continue;
    }
    try {
      await writeLogMessages(env.DB, [body]);
      if (body.type === "decision") written.add(body.row.id);
      message.ack();
    } catch (error) {
      console.error(
        `log message ${message.id} (attempt ${message.attempts}) not written, retrying in ${retryDelaySeconds(message.attempts)} s: ${errorText(error)}`,
      );
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
