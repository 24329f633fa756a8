import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { DEFAULT_COMPILED_SPEC as spec } from "../../shared/features.ts";
import { fixedChooser, uniformChooser } from "../../trainer/sim/chooser.ts";
import {
  evalRowsOf,
  logRowsOf,
  readEvalJsonl,
  scoreOnEvalSet,
  writeEvalJsonl,
  writeLogsJsonl,
} from "../../trainer/sim/write-exports.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { myopicOracleChooser, solveLatentMdp } from "../../trainer/sim/oracle.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";

const model = DEFAULT_SIM_MODEL;
const catalogue = model.catalogue;
const dir = mkdtempSync(join(tmpdir(), "sim-eval-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("evaluation set", () => {
  const run = simulateTraffic({ seed: 31, visitors: 6000, policy: uniformChooser(catalogue, spec) });
  const rows = evalRowsOf(run);

  test("scores a fixed policy at its analytic expected reward", () => {
    // First page views only: their distribution is the model's arrival distribution, whose expected
    // one-step reward value iteration gives in closed form (γ = 0).
    const arrivals = rows.filter((r) => r.context.visits === 1 && r.context.lastPromotion === null);
    for (const id of ["none", "pct10", "bundle"]) {
      const analytic = solveLatentMdp({
        gamma: 0,
        rule: { kind: "fixed", action: catalogue.findIndex((p) => p.id === id) },
      }).valuePerVisitor;
      const score = scoreOnEvalSet(fixedChooser(id, catalogue), arrivals);
      expect(Math.abs(score.value - analytic)).toBeLessThan(4 * score.standardError);
    }
  });

  test("is exact: a policy's score is the mean expected reward of what it picks, free of outcome noise", () => {
    const score = scoreOnEvalSet(fixedChooser("pct10", catalogue), rows);
    const byHand =
      rows.reduce((a, r) => a + r.expectedReward[r.eligible.includes("pct10") ? "pct10" : "none"]!, 0) / rows.length;
    expect(score.value).toBeCloseTo(byHand, 10);
    expect(score.actionShare.pct10).toBe(1);
  });

  test("agrees with the realised rewards of the logging policy", () => {
    const score = scoreOnEvalSet(uniformChooser(catalogue, spec), rows);
    const realised = run.steps.map((s) => s.reward);
    const mean = realised.reduce((a, b) => a + b, 0) / realised.length;
    const sd = Math.sqrt(realised.reduce((a, r) => a + (r - mean) ** 2, 0) / (realised.length - 1));
    expect(Math.abs(score.value - mean)).toBeLessThan(4 * (sd / Math.sqrt(realised.length)));
  });

  test("the myopic oracle has the best one-step score there is", () => {
    const best = scoreOnEvalSet(myopicOracleChooser(model), rows).value;
    for (const p of catalogue)
      expect(scoreOnEvalSet(fixedChooser(p.id, catalogue), rows).value).toBeLessThanOrEqual(best + 1e-12);
  });

  test("round-trips through JSONL", async () => {
    const evalPath = join(dir, "eval.jsonl");
    const logPath = join(dir, "logs.jsonl");
    expect(await writeEvalJsonl(evalPath, rows.slice(0, 500))).toBe(500);
    expect(await writeLogsJsonl(logPath, logRowsOf(run).slice(0, 500))).toBe(500);
    const back = await readEvalJsonl(evalPath);
    expect(back).toEqual(rows.slice(0, 500));
    expect(scoreOnEvalSet(fixedChooser("gift", catalogue), back).value).toBeCloseTo(
      scoreOnEvalSet(fixedChooser("gift", catalogue), rows.slice(0, 500)).value,
      12,
    );
  });
});
