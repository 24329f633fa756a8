import type { LogMessage } from "../../shared/schema.ts";
import { writeLogMessages } from "./d1-writer.ts";

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
 * Gets each log row to D1 one way or another: through LOG_QUEUE, else straight into D1, else it
 * counts the row as lost and prints it, so that an operator can replay it from the Worker's logs.
 */
export class LogShipper {
  readonly loss: LogLoss = { queueSendFailures: 0, writtenDirect: 0, lost: 0, deadLettered: 0, replayed: 0, capped: 0 };

  async ship(env: Env, message: LogMessage): Promise<void> {
    try {
      await env.LOG_QUEUE.send(message);
      return;
    } catch (queueError) {
      this.loss.queueSendFailures++;
      console.warn(`LOG_QUEUE send failed, writing the ${message.type} to D1 directly: ${errorText(queueError)}`);
    }
    try {
      await writeLogMessages(env.DB, [message]);
      this.loss.writtenDirect++;
    } catch (dbError) {
      this.loss.lost++;
      console.error(`log row lost (queue and D1 both failed: ${errorText(dbError)}): ${JSON.stringify(message)}`);
    }
  }

  /**
   * The dead-letter queue's consumer: one more write of each row (inserts are idempotent, so a row
   * that did get through earlier changes nothing). A row D1 still refuses is counted as lost and
   * printed in full, and acknowledged: it is accounted for, and the Worker's logs hold it for replay.
   */
  async replayDeadLetters(batch: MessageBatch<LogMessage>, env: Env): Promise<void> {
    for (const message of batch.messages) {
      this.loss.deadLettered++;
      try {
        await writeLogMessages(env.DB, [message.body]);
        this.loss.replayed++;
      } catch (error) {
        this.loss.lost++;
        console.error(
          `log row lost (dead-lettered, D1 still refuses: ${errorText(error)}): ${JSON.stringify(message.body)}`,
        );
      }
      message.ack();
    }
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
