import type { LogMessage } from "../../shared/schema.ts";
import { writeLogMessages } from "./d1-writer.ts";
import { errorText } from "./log-shipper.ts";

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
        `log message ${message.id} (attempt ${message.attempts}) not written, queued for retry: ${errorText(error)}`,
      );
      message.retry();
    }
  }
}
