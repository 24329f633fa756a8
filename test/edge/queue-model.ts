import type { LogMessage } from "../../shared/schema.ts";
import { DEAD_LETTER_QUEUE } from "../../edge/worker.ts";
import { QUEUE_NAME, type Harness } from "./helpers.ts";

/** wrangler.toml's consumer settings for LOG_QUEUE. */
const MAX_RETRIES = 10;
const MAX_BATCH_SIZE = 100;

interface Pending {
  id: string;
  body: LogMessage;
  /** Deliveries so far. */
  attempts: number;
  /** Simulated seconds at which it is delivered next. */
  dueAt: number;
}

type Verdict = { kind: "ack" } | { kind: "retry"; delaySeconds: number };

/**
 * Cloudflare Queues' delivery of LOG_QUEUE, as documented, on a simulated clock, so that a test can
 * live through hours of retries in milliseconds: at-least-once batches of up to 100 due messages;
 * per message the first ack() or retry() counts, then ackAll()/retryAll() for the rest, then (if the
 * handler returns) an ack, or (if it throws) a retry; a retry waits its delaySeconds; a message
 * retried past max_retries goes to the dead-letter queue, whose consumer gets it at once. The
 * consumers are the Worker's own queue handler, writing to the real local D1; only the broker and
 * its clock are modelled, because a real one would take the hours it is asked to wait.
 */
export class QueueModel {
  now = 0;
  private pending: Pending[] = [];
  private nextId = 0;
  readonly deliveries = { batches: 0, deadLettered: 0 };

  private readonly h: Harness;

  constructor(h: Harness) {
    this.h = h;
  }

  /** Takes what the Worker has sent to LOG_QUEUE so far (and anything else given). */
  enqueue(bodies: LogMessage[] = this.h.sent.splice(0)): number {
    for (const body of bodies) this.pending.push({ id: `q-${this.nextId++}`, body, attempts: 0, dueAt: this.now });
    return bodies.length;
  }

  get backlog(): number {
    return this.pending.length;
  }

  /**
   * Delivers everything due, batch by batch, moving the clock to each next due time, until nothing is
   * left or the clock would pass `until`. `onTick` runs before each delivery (to end an outage).
   */
  async run(until: number, onTick: (now: number) => Promise<void> = async () => {}): Promise<void> {
    while (this.pending.length > 0) {
      const next = Math.min(...this.pending.map((p) => p.dueAt));
      if (next > until) return;
      this.now = Math.max(this.now, next);
      await onTick(this.now);
      const due = this.pending.filter((p) => p.dueAt <= this.now).slice(0, MAX_BATCH_SIZE);
      this.pending = this.pending.filter((p) => !due.includes(p));
      await this.deliver(due);
    }
  }

  private async deliver(due: Pending[]): Promise<void> {
    this.deliveries.batches++;
    for (const p of due) p.attempts++;
    const verdicts = await this.handle(QUEUE_NAME, due);
    const deadLetters: Pending[] = [];
    for (const p of due) {
      const verdict = verdicts.get(p.id)!;
      if (verdict.kind === "ack") continue;
      if (p.attempts > MAX_RETRIES) deadLetters.push(p);
      else this.pending.push({ ...p, dueAt: this.now + verdict.delaySeconds });
    }
    if (deadLetters.length > 0) {
      this.deliveries.deadLettered += deadLetters.length;
      // The dead-letter consumer acknowledges everything (lost rows are counted there), so one delivery.
      await this.handle(DEAD_LETTER_QUEUE, deadLetters);
    }
  }

  private async handle(queue: string, due: Pending[]): Promise<Map<string, Verdict>> {
    const decided = new Map<string, Verdict>();
    const decide = (id: string, verdict: Verdict) => {
      if (!decided.has(id)) decided.set(id, verdict);
    };
    const messages: Message<LogMessage>[] = due.map((p) => ({
      id: p.id,
      timestamp: new Date(),
      body: structuredClone(p.body),
      attempts: p.attempts,
      ack: () => decide(p.id, { kind: "ack" }),
      retry: (options) => decide(p.id, { kind: "retry", delaySeconds: options?.delaySeconds ?? 0 }),
    }));
    let rest: Verdict | null = null;
    const batch: MessageBatch<LogMessage> = {
      queue,
      messages,
      metadata: { metrics: { backlogCount: this.pending.length + due.length, backlogBytes: 0 } },
      ackAll: () => void (rest ??= { kind: "ack" }),
      retryAll: (options) => void (rest ??= { kind: "retry", delaySeconds: options?.delaySeconds ?? 0 }),
    };
    try {
      await this.h.worker.queue(batch, this.h.env);
    } catch {
      rest ??= { kind: "retry", delaySeconds: 0 };
    }
    for (const p of due) decide(p.id, rest ?? { kind: "ack" });
    return decided;
  }
}
