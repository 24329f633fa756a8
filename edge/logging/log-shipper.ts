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
}

/**
 * Gets each log row to D1 one way or another: through LOG_QUEUE, else straight into D1, else it
 * counts the row as lost and prints it, so that an operator can replay it from the Worker's logs.
 */
export class LogShipper {
  readonly loss: LogLoss = { queueSendFailures: 0, writtenDirect: 0, lost: 0 };

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
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
