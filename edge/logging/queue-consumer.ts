import type { LogMessage } from "../../shared/schema.ts";
import { writeLogMessages } from "./d1-writer.ts";
import { errorText } from "./log-shipper.ts";

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
 * Writes a batch of log messages to D1. When the batch write fails, each message is tried on its
 * own: one bad row then holds back only itself, and when D1 itself is down every message is
 * retried, so nothing is acknowledged unwritten.
 */
export async function consumeLogBatch(batch: MessageBatch<LogMessage>, env: Env): Promise<void> {
  try {
    await writeLogMessages(
      env.DB,
      batch.messages.map((m) => m.body),
    );
    batch.ackAll();
    return;
  } catch (error) {
    console.error(
      `writing ${batch.messages.length} log messages to D1 failed, retrying them one by one: ${errorText(error)}`,
    );
  }
  for (const message of batch.messages) {
    try {
      await writeLogMessages(env.DB, [message.body]);
      message.ack();
    } catch (error) {
      console.error(
        `log message ${message.id} (attempt ${message.attempts}) not written, retrying in ${retryDelaySeconds(message.attempts)} s: ${errorText(error)}`,
      );
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
