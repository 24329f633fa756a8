import { budgeted, localDay, throttlesFor, THROTTLES_KEY, type BudgetUsage } from "../../shared/budget.ts";
import { promotionCost, type Catalogue } from "../../shared/catalogue.ts";

/**
 * One look of the budget monitor (the Worker's scheduled handler): each budgeted promotion's
 * exposures and spend since the start of its day, from D1, and the throttles they call for, written
 * to KV for every isolate to read. Spend is the cost of the conversions reported today on decisions
 * that showed the promotion.
 */
export async function publishThrottles(
  db: D1Database,
  kv: KVNamespace,
  catalogue: Catalogue,
  now: number,
): Promise<{ budgeted: number; throttled: string[] }> {
  const promotions = budgeted(catalogue);
  if (promotions.length === 0) {
    await kv.delete(THROTTLES_KEY);
    return { budgeted: 0, throttled: [] };
  }
  const usage = new Map<string, BudgetUsage>();
  for (const promotion of promotions) {
    const day = localDay(now, promotion.eligibility.dailyBudget!.timeZone);
    const exposures = await db
      .prepare("SELECT COUNT(*) AS n FROM decisions WHERE action = ? AND ts >= ? AND ts < ?")
      .bind(promotion.id, day.start, day.end)
      .first<{ n: number }>();
    const { results: conversions } = await db
      .prepare(
        "SELECT o.value AS value FROM outcomes o JOIN decisions d ON d.id = o.decision_id " +
          "WHERE d.action = ? AND o.kind = 'conversion' AND o.ts >= ? AND o.ts < ?",
      )
      .bind(promotion.id, day.start, day.end)
      .all<{ value: number }>();
    const spend = conversions.reduce((sum, c) => sum + promotionCost(promotion, c.value), 0);
    usage.set(promotion.id, { exposures: exposures?.n ?? 0, spend });
  }
  const throttles = throttlesFor(catalogue, usage, now);
  await kv.put(THROTTLES_KEY, JSON.stringify(throttles));
  return { budgeted: promotions.length, throttled: Object.keys(throttles) };
}
