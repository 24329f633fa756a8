import { exports, env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import { eq, inArray } from "drizzle-orm";
import { afterEach, describe, expect, test, vi } from "vitest";
import { contextSchema } from "../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { decisions, outcomes, type DecisionRow, type LogMessage, type OutcomeRow } from "../../shared/schema.ts";
import { MAX_BOUND_PARAMETERS } from "../../edge/logging/d1-writer.ts";
import { DEAD_LETTER_QUEUE } from "../../edge/worker.ts";
import {
  ACTION_IDS,
  call,
  contextBody,
  decide,
  drain,
  failingDatabase,
  failingQueue,
  harness,
  postJson,
  QUEUE_NAME,
  visitorCookieOf,
} from "./helpers.ts";

const db = drizzle(env.DB);

afterEach(() => {
  vi.restoreAllMocks();
});

function decisionRow(id: string): DecisionRow {
  return {
    id,
    ts: 1_790_000_000_000,
    visitorHash: "ab".repeat(32),
    policyVersion: "fallback",
    featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
    context: "{}",
    features: "[]",
    stateKey: 0,
    eligible: JSON.stringify(ACTION_IDS),
    action: "none",
    propensity: 1 / 7,
    explored: false,
    experimentId: null,
    arm: null,
    shadow: null,
  };
}

function outcomeRow(decisionId: string, eventKey: string): OutcomeRow {
  return { decisionId, ts: 1_790_000_000_000, kind: "conversion", value: 10, eventKey };
}

/** Runs the consumer of `worker` over `messages` as one batch delivered by the runtime. */
async function consume(h: ReturnType<typeof harness>, messages: LogMessage[]) {
  const batch = createMessageBatch<LogMessage>(
    QUEUE_NAME,
    messages.map((body, i) => ({ id: `m-${i}`, timestamp: Date.now(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await h.worker.queue(batch, h.env);
  return getQueueResult(batch, ctx);
}

describe("decision logging", () => {
  test("decide sends one message, and the consumer writes it to D1 as logged", async () => {
    const h = harness();
    const { answer } = await decide(h, contextBody({ cartValue: 45 }, ["pct10", "fixed5", "gift"]), {
      headers: { "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "cf-connecting-ip": "203.0.113.9" },
    });
    expect(h.sent).toHaveLength(1);
    expect(await drain(h)).toMatchObject({ ackAll: true, retryMessages: [] });

    const [row] = await db.select().from(decisions).where(eq(decisions.id, answer.decisionId));
    expect(row).toBeDefined();
    expect(row).toMatchObject({
      id: answer.decisionId,
      policyVersion: "fallback",
      featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
      action: answer.promotion.id,
      propensity: answer.propensity,
      explored: answer.explored,
      eligible: JSON.stringify(["none", "pct10", "fixed5"]),
    });
    expect(Math.abs(row!.ts - Date.now())).toBeLessThan(60_000);
    expect(Number.parseInt(answer.decisionId.split(".")[0]!, 36)).toBe(row!.ts);
    expect(row!.visitorHash).toMatch(/^[0-9a-f]{64}$/);
    const context = contextSchema.parse(JSON.parse(row!.context));
    expect(context).toMatchObject({ device: "desktop", cartValue: 45, page: "cart" });
    expect(JSON.parse(row!.features)).toHaveLength(DEFAULT_COMPILED_SPEC.width);
    expect(row!.context).not.toContain("203.0.113.9");
    expect(row!.context).not.toContain("Windows");
  });

  test("an outcome is sent and written the same way", async () => {
    const h = harness();
    const { answer, cookie } = await decide(h, contextBody());
    await call(
      h,
      postJson(
        "/v1/outcome",
        { decisionId: answer.decisionId, kind: "refund", value: 12.5, eventKey: "r-1" },
        { cookie },
      ),
    );
    expect(h.sent.map((m) => m.type)).toEqual(["decision", "outcome"]);
    await drain(h);
    const rows = await db.select().from(outcomes).where(eq(outcomes.decisionId, answer.decisionId));
    expect(rows).toEqual([
      {
        decisionId: answer.decisionId,
        ts: expect.any(Number),
        kind: "refund",
        value: 12.5,
        eventKey: "r-1",
        archived: false,
      },
    ]);
  });

  test("rows of concurrent requests leave together in one sendBatch, each exactly once; a full batch leaves at once", async () => {
    const h = harness();
    const sendBatch = vi.spyOn(h.env.LOG_QUEUE, "sendBatch");
    const requests = Array.from({ length: 70 }, async () => {
      const ctx = createExecutionContext();
      const response = await h.worker.fetch(postJson("/v1/decide", contextBody()), h.env, ctx);
      return { ctx, answer: await response.json<{ decisionId: string }>() };
    });
    const answered = await Promise.all(requests);
    // All 70 answers are out while the last 6 rows still wait for their window: logging holds no
    // answer back. The first 64 filled a batch, which left at once.
    expect(sendBatch.mock.calls.map(([messages]) => [...messages].length)).toEqual([64]);
    await Promise.all(answered.map(({ ctx }) => waitOnExecutionContext(ctx)));

    expect(sendBatch.mock.calls.map(([messages]) => [...messages].length)).toEqual([64, 6]);
    expect(h.sent.map((m) => m.type === "decision" && m.row.id).sort()).toEqual(
      answered.map(({ answer }) => answer.decisionId).sort(),
    );
  });

  test("the consumer chunks inserts within D1's bound-parameter limit, and a redelivered batch changes nothing", async () => {
    const statements: string[] = [];
    const recording = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            statements.push(sql);
            return target.prepare(sql);
          };
        }
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const h = harness({ DB: recording });
    const ids = Array.from({ length: 50 }, (_, i) => `chunk-decision-${i}`);
    const messages: LogMessage[] = [
      ...ids.map((id): LogMessage => ({ type: "decision", row: decisionRow(id) })),
      ...Array.from({ length: 30 }, (_, i): LogMessage => ({
        type: "outcome",
        row: outcomeRow(ids[i % 3]!, `e-${i}`),
      })),
    ];

    expect(await consume(h, messages)).toMatchObject({ ackAll: true, retryMessages: [] });
    expect(Math.max(...statements.map((sql) => sql.split("?").length - 1))).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
    const parameterCounts = statements.filter((sql) => /^insert/i.test(sql)).map((sql) => sql.split("?").length - 1);
    // 50 decisions at 17 columns → 5 per insert → 10 statements of 16 bound values (archived takes its
    // default); 30 outcomes at 6 columns → 16 per insert → 2.
    expect(parameterCounts).toEqual([...Array<number>(10).fill(80), 96, 84]);

    expect(await consume(h, messages)).toMatchObject({ ackAll: true });
    expect(await db.$count(decisions, inArray(decisions.id, ids))).toBe(50);
    expect(await db.$count(outcomes, inArray(outcomes.decisionId, ids.slice(0, 3)))).toBe(30);
  });

  test("an outcome that overtakes its decision is held, not stored as an orphan, until the decision is in D1", async () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    const h = harness();
    const early = await consume(h, [
      { type: "outcome", row: outcomeRow("late-decision", "o1") },
      { type: "decision", row: decisionRow("on-time") },
      { type: "outcome", row: outcomeRow("on-time", "o2") },
    ]);
    expect(early.retryMessages.map((m) => m.msgId)).toEqual(["m-0"]);
    expect(early.explicitAcks.sort()).toEqual(["m-1", "m-2"]);
    expect(await db.$count(outcomes, eq(outcomes.decisionId, "late-decision"))).toBe(0);
    expect(await db.$count(outcomes, eq(outcomes.decisionId, "on-time"))).toBe(1);
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining("ahead of its decision late-decision"));

    // The decision lands; the retried outcome is then written.
    expect(await consume(h, [{ type: "decision", row: decisionRow("late-decision") }])).toMatchObject({ ackAll: true });
    expect(await consume(h, [{ type: "outcome", row: outcomeRow("late-decision", "o1") }])).toMatchObject({
      ackAll: true,
      retryMessages: [],
    });
    expect(await db.$count(outcomes, eq(outcomes.decisionId, "late-decision"))).toBe(1);
  });

  test("at most MAX_OUTCOMES_PER_DECISION outcomes of a kind are stored per decision; the rest are counted as capped", async () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    const h = harness({ MAX_OUTCOMES_PER_DECISION: "2" });
    const stuffed = (key: string): LogMessage => ({ type: "outcome", row: outcomeRow("stuffed", key) });
    const first = await consume(h, [
      { type: "decision", row: decisionRow("stuffed") },
      stuffed("k1"),
      stuffed("k2"),
      stuffed("k3"),
    ]);
    expect(first.explicitAcks.sort()).toEqual(["m-0", "m-1", "m-2", "m-3"]);
    expect(await consume(h, [stuffed("k4")])).toMatchObject({ explicitAcks: ["m-0"], retryMessages: [] });
    expect(await db.$count(outcomes, eq(outcomes.decisionId, "stuffed"))).toBe(2);
    expect(h.deps.logs.loss).toMatchObject({ capped: 2, lost: 0 });
    expect(warnings).toHaveBeenCalledWith(
      expect.stringMatching(/over the cap of 2 conversions per decision.*"eventKey":"k3"/),
    );
  });

  test("when D1 fails, every message is retried and none acknowledged", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const h = harness({ DB: failingDatabase() });
    const result = await consume(h, [
      { type: "decision", row: decisionRow("down-1") },
      { type: "outcome", row: outcomeRow("down-1", "") },
    ]);
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-0", "m-1"]);
    expect(await db.$count(decisions, eq(decisions.id, "down-1"))).toBe(0);
  });

  test("retries wait longer each attempt, up to an hour, so ten attempts outlast a D1 outage of 4 hours", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const h = harness({ DB: failingDatabase() });
    // getQueueResult does not report delays, so the batch records what the consumer asks for.
    const delays: number[] = [];
    for (let attempts = 1; attempts <= 10; attempts++) {
      const message = {
        id: `d-${attempts}`,
        timestamp: new Date(),
        attempts,
        body: { type: "decision", row: decisionRow("down-2") } satisfies LogMessage,
        ack: () => {},
        retry: (options?: QueueRetryOptions) => delays.push(options?.delaySeconds ?? 0),
      };
      const batch: MessageBatch<LogMessage> = {
        queue: QUEUE_NAME,
        messages: [message],
        metadata: { metrics: { backlogCount: 1, backlogBytes: 0 } },
        ackAll: () => {},
        retryAll: () => {},
      };
      await h.worker.queue(batch, h.env);
    }
    expect(delays).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThan(4 * 3600);
  });

  test("one unwritable message is retried alone; the rest of its batch is written", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const h = harness();
    const poison: DecisionRow = { ...decisionRow("poison"), propensity: Number.NaN };
    const result = await consume(h, [
      { type: "decision", row: decisionRow("healthy-1") },
      { type: "decision", row: poison },
      { type: "decision", row: decisionRow("healthy-2") },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["m-0", "m-2"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-1"]);
    expect(await db.$count(decisions, inArray(decisions.id, ["healthy-1", "healthy-2", "poison"]))).toBe(2);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("m-1"));
  });
});

describe("when the queue fails", () => {
  test("the row is written to D1 directly and counted", async () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    const h = harness({ LOG_QUEUE: failingQueue() });
    const response = await call(h, postJson("/v1/decide", contextBody()));
    expect(response.status).toBe(200);
    const { decisionId } = await response.json<{ decisionId: string }>();
    expect(await db.$count(decisions, eq(decisions.id, decisionId))).toBe(1);
    expect(h.deps.logs.loss).toEqual({
      queueSendFailures: 1,
      writtenDirect: 1,
      lost: 0,
      deadLettered: 0,
      replayed: 0,
      capped: 0,
    });
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining("LOG_QUEUE send failed"));

    const health = await call(h, new Request("https://promo.example/healthz"));
    expect(await health.json()).toEqual({
      ok: true,
      status: "ok",
      problems: [],
      logLoss: { queueSendFailures: 1, writtenDirect: 1, lost: 0, deadLettered: 0, replayed: 0, capped: 0 },
    });
  });

  test("when D1 fails too, the row is counted as lost and printed in full, and the visitor still gets an answer", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const h = harness({ LOG_QUEUE: failingQueue(), DB: failingDatabase() });
    const response = await call(h, postJson("/v1/decide", contextBody()));
    expect(response.status).toBe(200);
    const { decisionId } = await response.json<{ decisionId: string }>();
    expect(h.deps.logs.loss).toEqual({
      queueSendFailures: 1,
      writtenDirect: 0,
      lost: 1,
      deadLettered: 0,
      replayed: 0,
      capped: 0,
    });
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(new RegExp(`log row lost.*"id":"${decisionId.replace(/\./g, "\\.")}"`)),
    );

    const status = await call(
      h,
      new Request("https://promo.example/v1/policy", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }),
    );
    expect(await status.json()).toMatchObject({ logLoss: { lost: 1 } });
    const health = await call(h, new Request("https://promo.example/healthz"));
    expect(await health.json()).toMatchObject({ ok: false, status: "degraded", problems: ["logging: 1 rows lost"] });
  });
});

describe("the dead-letter queue", () => {
  const deadLetters = (messages: LogMessage[]) =>
    createMessageBatch<LogMessage>(
      DEAD_LETTER_QUEUE,
      messages.map((body, i) => ({ id: `dl-${i}`, timestamp: Date.now(), attempts: 11, body })),
    );

  test("its consumer writes each row once more, counts it as replayed, and acknowledges it", async () => {
    const h = harness();
    const batch = deadLetters([
      { type: "decision", row: decisionRow("dead-1") },
      { type: "outcome", row: outcomeRow("dead-1", "late") },
    ]);
    const ctx = createExecutionContext();
    await h.worker.queue(batch, h.env);
    expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["dl-0", "dl-1"], retryMessages: [] });
    expect(await db.$count(decisions, eq(decisions.id, "dead-1"))).toBe(1);
    expect(h.deps.logs.loss).toMatchObject({ deadLettered: 2, replayed: 2, lost: 0 });
  });

  test("an outcome whose decision never reached D1 is counted lost and printed, not stored as an orphan", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const h = harness();
    const batch = deadLetters([{ type: "outcome", row: outcomeRow("never-stored", "orphan") }]);
    const ctx = createExecutionContext();
    await h.worker.queue(batch, h.env);
    expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["dl-0"], retryMessages: [] });
    expect(await db.$count(outcomes, eq(outcomes.decisionId, "never-stored"))).toBe(0);
    expect(h.deps.logs.loss).toMatchObject({ deadLettered: 1, replayed: 0, lost: 1 });
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(/its decision never-stored is not in D1.*"eventKey":"orphan"/),
    );
  });

  test("a row D1 still refuses is counted as lost, printed in full, acknowledged, and degrades /healthz", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const h = harness({ DB: failingDatabase() });
    const batch = deadLetters([{ type: "decision", row: decisionRow("dead-2") }]);
    const ctx = createExecutionContext();
    await h.worker.queue(batch, h.env);
    expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["dl-0"], retryMessages: [] });
    expect(h.deps.logs.loss).toMatchObject({ deadLettered: 1, replayed: 0, lost: 1 });
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/log row lost \(dead-lettered.*"id":"dead-2"/));
    const health = await call(h, new Request("https://promo.example/healthz"));
    expect(await health.json()).toMatchObject({ ok: false, status: "degraded" });
  });
});

describe("through the deployed bindings", () => {
  test("decide and outcome reach D1 through the real queue and its consumer", async () => {
    const decided = await exports.default.fetch(postJson("/v1/decide", contextBody()));
    expect(decided.status).toBe(200);
    const { decisionId } = await decided.json<{ decisionId: string }>();
    const reported = await exports.default.fetch(
      postJson("/v1/outcome", { decisionId, kind: "click", eventKey: "e2e" }, { cookie: visitorCookieOf(decided) }),
    );
    expect(reported.status).toBe(202);

    await vi.waitFor(
      async () => {
        expect(await db.$count(decisions, eq(decisions.id, decisionId))).toBe(1);
        expect(await db.$count(outcomes, eq(outcomes.decisionId, decisionId))).toBe(1);
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
