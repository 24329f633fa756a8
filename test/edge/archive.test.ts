import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import { inArray } from "drizzle-orm";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, test, vi } from "vitest";
import { archivePrefix } from "../../shared/archive.ts";
import { decisions, outcomes, type DecisionRow } from "../../shared/schema.ts";
import { readConfig } from "../../edge/config.ts";
import { deleteArchivedBefore, retentionCutoff } from "../../edge/archive/archiver.ts";
import { call, contextBody, decide, drain, harness, postJson, type Harness } from "./helpers.ts";

const db = drizzle(env.DB);
const DAY = 86_400_000;

async function parts(table: "decisions" | "outcomes"): Promise<Record<string, unknown>[]> {
  const listed = await env.ARCHIVE.list({ prefix: archivePrefix(table) });
  const rows: Record<string, unknown>[] = [];
  for (const object of listed.objects) {
    const body = await (await env.ARCHIVE.get(object.key))!.arrayBuffer();
    rows.push(...(await parquetReadObjects({ file: body })));
  }
  return rows;
}

async function runScheduled(h: Harness, at = Date.now()) {
  await h.worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/15 * * * *" }), h.env);
}

describe("the log archive", () => {
  test("the scheduled run copies new rows into Parquet parts by day, flags them, and a second run copies nothing again", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const h = harness();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { answer, cookie } = await decide(h, contextBody({ cartValue: 30 + i }));
      ids.push(answer.decisionId);
      await call(
        h,
        postJson("/v1/outcome", { decisionId: answer.decisionId, kind: "click", eventKey: `c${i}` }, { cookie }),
      );
    }
    await drain(h);
    await runScheduled(h);

    const stored = await db.select().from(decisions).where(inArray(decisions.id, ids));
    expect(stored.map((r) => r.archived)).toEqual([true, true, true, true, true]);
    const archived = (await parts("decisions")).filter((r) => ids.includes(String(r.id)));
    expect(archived).toHaveLength(5);
    for (const row of stored) {
      expect(archived.find((r) => r.id === row.id)).toEqual({
        id: row.id,
        ts: BigInt(row.ts),
        visitor_hash: row.visitorHash,
        policy_version: row.policyVersion,
        feature_spec_hash: row.featureSpecHash,
        catalogue_hash: row.catalogueHash,
        context: row.context,
        features: row.features,
        state_key: row.stateKey,
        eligible: row.eligible,
        action: row.action,
        propensity: row.propensity,
        explored: row.explored,
        experiment_id: null,
        arm: null,
        shadow: null,
      });
    }
    const clicks = (await parts("outcomes")).filter((r) => ids.includes(String(r.decision_id)));
    expect(clicks.map((r) => r.kind)).toEqual(["click", "click", "click", "click", "click"]);

    const before = (await env.ARCHIVE.list()).objects.map((o) => o.key).sort();
    await runScheduled(h);
    expect((await env.ARCHIVE.list()).objects.map((o) => o.key).sort()).toEqual(before);
  });

  test("retention deletes archived rows past the window, and never an unarchived one, however old", async () => {
    const now = Date.now();
    const row = (id: string, ts: number, archived: boolean): DecisionRow => ({
      id,
      ts,
      visitorHash: "v".repeat(64),
      policyVersion: "fallback",
      featureSpecHash: "spec",
      context: "{}",
      features: "[]",
      stateKey: 0,
      eligible: '["none"]',
      action: "none",
      propensity: 1,
      explored: false,
      archived,
    });
    await db
      .insert(decisions)
      .values([
        row("old-archived", now - 30 * DAY, true),
        row("old-unarchived", now - 300 * DAY, false),
        row("recent-archived", now - DAY, true),
      ]);
    await db.insert(outcomes).values([
      { decisionId: "old-archived", ts: now - 30 * DAY, kind: "click", value: 0, eventKey: "", archived: true },
      { decisionId: "old-unarchived", ts: now - 300 * DAY, kind: "click", value: 0, eventKey: "", archived: false },
    ]);

    // The archive is down: the scheduled run fails, and nothing unarchived goes.
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const down = harness({
      ARCHIVE: { ...env.ARCHIVE, put: () => Promise.reject(new Error("R2 unavailable")) } as R2Bucket,
    });
    await expect(runScheduled(down, now)).rejects.toThrow(/scheduled jobs failed/);
    expect(errors).toHaveBeenCalledWith("scheduled archive failed:", expect.any(Error));
    const ids = ["old-archived", "old-unarchived", "recent-archived"];
    expect((await db.select().from(decisions).where(inArray(decisions.id, ids))).map((r) => r.id).sort()).toEqual(ids);

    // The window ends at the latest decision when logging stopped earlier than now.
    // (The latest decision here is one of the first test's, logged moments ago.)
    const latest = (await env.DB.prepare("SELECT MAX(ts) AS ts FROM decisions").first<{ ts: number }>())!.ts;
    expect(latest).toBeLessThanOrEqual(Date.now());
    expect(await retentionCutoff(env.DB, now + 100 * DAY, 14 * DAY)).toBe(latest - 14 * DAY);
    expect(await retentionCutoff(env.DB, latest - DAY, 14 * DAY)).toBe(latest - DAY - 14 * DAY);
    expect(await deleteArchivedBefore(env.DB, now - 14 * DAY)).toEqual({ decisions: 1, outcomes: 1 });
    const left = await db.select().from(decisions).where(inArray(decisions.id, ids));
    expect(left.map((r) => r.id).sort()).toEqual(["old-unarchived", "recent-archived"]);
    expect(await db.$count(outcomes, inArray(outcomes.decisionId, ids))).toBe(1);
  });
});

test("a retention window no longer than the decision age is refused: late outcomes would lose their decision", () => {
  expect(() => readConfig({ ...env, RETENTION_DAYS: "7", DECISION_MAX_AGE_SECONDS: String(7 * 86_400) })).toThrow(
    /RETENTION_DAYS \(7\) must exceed DECISION_MAX_AGE_SECONDS \(7 days\)/,
  );
  expect(readConfig({ ...env, RETENTION_DAYS: "8" }).retentionMs).toBe(8 * DAY);
});
