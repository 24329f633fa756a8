/**
 * Faults injected while traffic flows through the Worker (its fetch and queue handlers, the real local
 * D1 and KV), with one account kept throughout: every row the Worker sent is either stored in D1 or
 * counted as lost in `logLoss` (and printed), never neither. Queue delivery runs on QueueModel's
 * simulated clock, so that outages of hours take milliseconds.
 */
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { inArray } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from "vitest";
import { decisions, outcomes, type LogMessage } from "../../shared/schema.ts";
import {
  call,
  contextBody,
  corruptedPolicyBytes,
  failingDatabase,
  failingQueue,
  harness,
  nonFinitePolicyBytes,
  postJson,
  publish,
  publishBytes,
  qtablePolicy,
  unpublish,
  visitorCookieOf,
  type Harness,
} from "./helpers.ts";
import { QueueModel } from "./queue-model.ts";

const db = drizzle(env.DB);
const HOUR = 3600;

let errors: MockInstance<typeof console.error>;
beforeEach(async () => {
  await unpublish(env.POLICY);
  vi.spyOn(console, "warn").mockImplementation(() => {});
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** What the Worker answered and so must have logged: decision ids, and the count of all rows. */
interface Sent {
  decisionIds: string[];
  rows: number;
}

/** Page views of `visitors` returning visitors, each with a click reported from their browser. */
async function traffic(h: Harness, visitors = 6, pageViews = 4): Promise<Sent> {
  const sent: Sent = { decisionIds: [], rows: 0 };
  for (let v = 0; v < visitors; v++) {
    let cookie: string | undefined;
    for (let p = 0; p < pageViews; p++) {
      const decided = await call(h, postJson("/v1/decide", contextBody({ cartValue: 20 + 10 * p }), { cookie }));
      expect(decided.status).toBe(200);
      cookie = visitorCookieOf(decided);
      const { decisionId } = await decided.json<{ decisionId: string }>();
      sent.decisionIds.push(decisionId);
      sent.rows++;
      const click = { decisionId, kind: "click", eventKey: `click-${p}` };
      const reported = await call(h, postJson("/v1/outcome", click, { cookie }));
      expect(reported.status).toBe(202);
      sent.rows++;
    }
  }
  return sent;
}

async function storedRows(sent: Sent): Promise<number> {
  return (
    (await db.$count(decisions, inArray(decisions.id, sent.decisionIds))) +
    (await db.$count(outcomes, inArray(outcomes.decisionId, sent.decisionIds)))
  );
}

async function health(h: Harness) {
  return (await call(h, new Request("https://promo.example/healthz"))).json<{ status: string; problems: string[] }>();
}

/** D1 down as in the original report: the decisions table renamed away, then back. */
async function takeDecisionsTableAway(): Promise<() => Promise<void>> {
  await env.DB.exec("ALTER TABLE decisions RENAME TO decisions_away");
  let restored = false;
  return async () => {
    if (restored) return;
    restored = true;
    await env.DB.exec("ALTER TABLE decisions_away RENAME TO decisions");
  };
}

describe("fault injection: rows sent = rows stored + rows counted as lost", () => {
  test("a D1 outage of an hour (the ~20 s that retries used to last, many times over): nothing is lost", async () => {
    const h = harness();
    const queue = new QueueModel(h);
    const restore = await takeDecisionsTableAway();
    try {
      const first = await traffic(h);
      queue.enqueue();
      await queue.run(HOUR / 2);
      const second = await traffic(h);
      queue.enqueue();
      await queue.run(HOUR - 1);
      // Every row is still in the queue, retried with growing delays; none went to the dead-letter queue.
      expect(queue.backlog).toBe(first.rows + second.rows);
      await queue.run(Number.POSITIVE_INFINITY, async (now) => {
        if (now >= HOUR) await restore();
      });

      for (const sent of [first, second]) expect(await storedRows(sent)).toBe(sent.rows);
      expect(queue.deliveries.deadLettered).toBe(0);
      expect(h.deps.logs.loss).toMatchObject({ lost: 0, deadLettered: 0 });
      expect(await health(h)).toMatchObject({ status: "ok" });
    } finally {
      await restore();
    }
  });

  test("an outage past the whole retry budget (5 h): rows are dead-lettered, counted lost and printed", async () => {
    const h = harness();
    const queue = new QueueModel(h);
    const restore = await takeDecisionsTableAway();
    try {
      const sent = await traffic(h, 3, 3);
      queue.enqueue();
      await queue.run(5 * HOUR);
      expect(queue.backlog).toBe(0);
      await restore();
      // The outcomes were dead-lettered too, and not stored as orphans of decisions D1 never got.
      const stored = await storedRows(sent);
      expect(stored).toBe(0);
      expect(stored + h.deps.logs.loss.lost).toBe(sent.rows);
      expect(h.deps.logs.loss).toMatchObject({ deadLettered: sent.rows, replayed: 0, lost: sent.rows });
      expect(errors).toHaveBeenCalledWith(expect.stringContaining(`"id":"${sent.decisionIds[0]}"`));
      expect(await health(h)).toMatchObject({ status: "degraded", problems: [`logging: ${sent.rows} rows lost`] });
    } finally {
      await restore();
    }
  });

  test("a poisoned row among good traffic holds back only itself, and ends counted lost", async () => {
    const h = harness();
    const queue = new QueueModel(h);
    const sent = await traffic(h, 4, 3);
    const [decision] = h.sent.filter((m): m is Extract<LogMessage, { type: "decision" }> => m.type === "decision");
    const poison: LogMessage = { type: "decision", row: { ...decision!.row, id: "poison-1", propensity: Number.NaN } };
    queue.enqueue([...h.sent.splice(0), poison]);

    await queue.run(0);
    expect(await storedRows(sent)).toBe(sent.rows);
    expect(queue.backlog).toBe(1);
    await queue.run(Number.POSITIVE_INFINITY);

    expect(h.deps.logs.loss).toMatchObject({ deadLettered: 1, lost: 1 });
    expect((await storedRows(sent)) + h.deps.logs.loss.lost).toBe(sent.rows + 1);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"id":"poison-1"'));
  });

  test("corrupt and NaN policies published mid-traffic: the last good one serves, every row is stored", async () => {
    const h = harness();
    const queue = new QueueModel(h);
    await publish(env.POLICY, qtablePolicy("good", "fixed5"));
    const before = await traffic(h, 2, 2);
    await publishBytes(env.POLICY, "v-crc", corruptedPolicyBytes("v-crc", "gift"));
    const corrupt = await traffic(h, 2, 2);
    expect((await health(h)).problems).toEqual([expect.stringMatching(/^policy: .*checksum_mismatch/)]);
    await publishBytes(env.POLICY, "v-nan", nonFinitePolicyBytes("v-nan", "gift", Number.NaN));
    const nan = await traffic(h, 2, 2);
    expect((await health(h)).problems).toEqual([expect.stringMatching(/^policy: .*non_finite/)]);

    const served = h.sent.flatMap((m) => (m.type === "decision" ? [m.row.policyVersion] : []));
    expect(new Set(served)).toEqual(new Set(["good"]));
    queue.enqueue();
    await queue.run(Number.POSITIVE_INFINITY);
    for (const sent of [before, corrupt, nan]) expect(await storedRows(sent)).toBe(sent.rows);
    expect(h.deps.logs.loss).toMatchObject({ lost: 0 });
  });

  test("a failing queue send: every row is written to D1 directly, or, with D1 down too, counted lost", async () => {
    const direct = harness({ LOG_QUEUE: failingQueue() });
    const sent = await traffic(direct, 3, 2);
    expect(await storedRows(sent)).toBe(sent.rows);
    expect(direct.deps.logs.loss).toMatchObject({ queueSendFailures: sent.rows, writtenDirect: sent.rows, lost: 0 });
    expect(await health(direct)).toMatchObject({ status: "ok" });

    const nowhere = harness({ LOG_QUEUE: failingQueue(), DB: failingDatabase() });
    const lost = await traffic(nowhere, 3, 2);
    expect((await storedRows(lost)) + nowhere.deps.logs.loss.lost).toBe(lost.rows);
    expect(nowhere.deps.logs.loss).toMatchObject({ queueSendFailures: lost.rows, writtenDirect: 0, lost: lost.rows });
    expect(await health(nowhere)).toMatchObject({ status: "degraded" });
  });
});
