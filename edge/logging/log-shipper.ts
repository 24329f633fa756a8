import type { LogMessage } from "../../shared/schema.ts";
import { decisionsFirst, storedDecisionIds, writeLogMessages } from "./d1-writer.ts";

/** How logging has fared in this isolate since it started. `lost` should stay 0. */
export interface LogLoss {
  /** Sends to LOG_QUEUE that failed. */
  queueSendFailures: number;
  /** Of those, rows written straight to D1 instead. */
  writtenDirect: number;
  /** Rows neither queued nor written: each was also printed in full with console.error. */
  lost: number;
  /** Rows that reached the dead-letter queue (D1 refused them through every retry). */
  deadLettered: number;
  /** Of those, rows the dead-letter consumer then wrote to D1; the rest are counted in `lost`. */
  replayed: number;
  /** Outcomes refused by the cap per decision and kind (MAX_OUTCOMES_PER_DECISION), each printed. */
  capped: number;
}

/**
 * Rows gathered from this isolate's requests for one sendBatch. At most MAX_BATCH_MESSAGES: the
 * Queues limit is 100 messages and 256 KB a batch, and a decision row is under 2 KB (its context is
 * bounded by the request schema and its features by the spec), so 64 stays inside both.
 */
interface OpenBatch {
  messages: LogMessage[];
  /** Set once a request has taken the batch to send it, so that it is sent exactly once. */
  taken: boolean;
}
const MAX_BATCH_MESSAGES = 64;
/**
 * How long the first row of a batch waits for others. It delays only the log, never an answer:
 * under load a few milliseconds gather tens of rows into one send; when traffic is light a row
 * goes almost alone.
 */
export const LOG_BATCH_WINDOW_MS = 5;

/**
 * Gets each log row to D1 one way or another: through LOG_QUEUE, else straight into D1, else it
 * counts the row as lost and prints it, so that an operator can replay it from the Worker's logs.
 *
 * Rows from concurrent requests leave together, in one sendBatch: a queue send is the dearest part of
 * logging, and most of its cost is per call, not per row. The request that opens a batch owns it:
 * its waitUntil keeps it alive until the batch is sent (or written, or counted lost). Requests that
 * only add a row never wait on that send, because workerd lets no request wait on another's I/O.
 */
export class LogShipper {
  readonly loss: LogLoss = { queueSendFailures: 0, writtenDirect: 0, lost: 0, deadLettered: 0, replayed: 0, capped: 0 };
  private open: OpenBatch | null = null;

  ship(ctx: Pick<ExecutionContext, "waitUntil">, env: Env, message: LogMessage): void {
    if (this.open === null) {
      const batch: OpenBatch = { messages: [message], taken: false };
      this.open = batch;
      ctx.waitUntil(scheduler.wait(LOG_BATCH_WINDOW_MS).then(() => this.sendOnce(env, batch)));
      return;
    }
    this.open.messages.push(message);
    if (this.open.messages.length >= MAX_BATCH_MESSAGES) ctx.waitUntil(this.sendOnce(env, this.open));
  }

  private async sendOnce(env: Env, batch: OpenBatch): Promise<void> {
    if (batch.taken) return;
    batch.taken = true;
    if (this.open === batch) this.open = null;
    const { messages } = batch;
    try {
      await env.LOG_QUEUE.sendBatch(messages.map((body) => ({ body })));
      return;
    } catch (queueError) {
      this.loss.queueSendFailures += messages.length;
      console.warn(`LOG_QUEUE send failed, writing ${messages.length} rows to D1 directly: ${errorText(queueError)}`);
    }
    try {
      await writeLogMessages(env.DB, messages);
      this.loss.writtenDirect += messages.length;
    } catch (dbError) {
      for (const message of messages) this.lose(message, `queue and D1 both failed: ${errorText(dbError)}`);
    }
  }

  /**
   * The dead-letter queue's consumer: one more write of each row (inserts are idempotent, so a row
   * that did get through earlier changes nothing), decisions first. An outcome whose decision is still
   * not in D1 is not written: stored, it would be an orphan that joins nothing. A row not written is
   * counted as lost and printed in full, and acknowledged: it is accounted for, and the Worker's logs
   * hold it for replay.
   */
  async replayDeadLetters(batch: MessageBatch<LogMessage>, env: Env): Promise<void> {
    // One lookup for the batch's outcomes; the decisions written below join it as they go. When D1
    // cannot even be read, every outcome meets the error its own lookup would have met.
    const wanted = batch.messages.flatMap((m) => (m.body.type === "outcome" ? [m.body.row.decisionId] : []));
    const lookup = await storedDecisionIds(env.DB, [...new Set(wanted)]).then(
      (stored) => ({ stored }),
      (error: unknown) => ({ error }),
    );
    for (const message of decisionsFirst(batch.messages)) {
      this.loss.deadLettered++;
      const body = message.body;
      try {
        if (body.type === "outcome" && "error" in lookup) throw lookup.error;
        if (body.type === "outcome" && "stored" in lookup && !lookup.stored.has(body.row.decisionId)) {
          this.lose(body, `dead-lettered, its decision ${body.row.decisionId} is not in D1`);
        } else {
          await writeLogMessages(env.DB, [body]);
          if (body.type === "decision" && "stored" in lookup) lookup.stored.add(body.row.id);
          this.loss.replayed++;
        }
      } catch (error) {
        this.lose(message.body, `dead-lettered, D1 still refuses: ${errorText(error)}`);
      }
      message.ack();
    }
  }

  private lose(message: LogMessage, why: string): void {
    this.loss.lost++;
    console.error(`log row lost (${why}): ${JSON.stringify(message)}`);
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
