import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { beforeEach, expect, test, vi } from "vitest";
import { ExperimentRegistry, LAST_EXPERIMENT_KEY } from "../../shared/experiment-registry.ts";
import { EXPERIMENT_KEY, type Experiment } from "../../shared/experiment.ts";
import { sha256Hex } from "../../shared/hash.ts";
import { createRng } from "../../shared/rng.ts";
import { encodePolicy } from "../../shared/policy/index.ts";
import { POLICY_POINTER_KEY } from "../../shared/policy-store.ts";
import type { DecisionRow, LogMessage, OutcomeRow } from "../../shared/schema.ts";
import { writeLogMessages } from "../../edge/logging/d1-writer.ts";
import { call, harness, publish, qtablePolicy, unpublish, type Harness } from "./helpers.ts";

const START = Date.parse("2026-11-02T00:00:00.000Z");

beforeEach(async () => {
  await unpublish(env.POLICY);
  await env.POLICY.delete(EXPERIMENT_KEY);
  await env.POLICY.delete(LAST_EXPERIMENT_KEY);
  vi.spyOn(console, "log").mockImplementation(() => {});
});

/** A canary: the control against a stored (unpublished) policy version, half and half. */
async function startCanary(id: string, monitor: Experiment["monitor"] = {}): Promise<Experiment> {
  const bytes = encodePolicy(qtablePolicy(`${id}-cand`, "pct20"));
  await env.POLICY.put(`policy:${id}-cand`, bytes);
  const experiment: Experiment = {
    id,
    startedAt: new Date(START).toISOString(),
    monitor: { minVisitorsPerArm: 300, ...monitor },
    arms: [
      { name: "control", serves: { type: "control" }, weight: 1 },
      {
        name: "candidate",
        serves: { type: "policy", version: `${id}-cand`, sha256: await sha256Hex(bytes) },
        weight: 1,
      },
    ],
  };
  await new ExperimentRegistry(env.POLICY).start(experiment);
  return experiment;
}

/**
 * Logs as the edge writes them: `visitors` visitors per arm, 2 page views each; a visitor converts
 * (an order of 60) with its arm's probability. Drawn from a fixed stream, so every run is the same.
 */
async function seedLogs(
  experimentId: string,
  visitors: number,
  conversion: Record<string, number>,
  action: Record<string, string>,
) {
  const u = createRng(12345);
  const decisionRows: DecisionRow[] = [];
  const outcomeRows: OutcomeRow[] = [];
  for (const arm of Object.keys(conversion)) {
    for (let v = 0; v < visitors; v++) {
      for (let view = 0; view < 2; view++) {
        const id = `${experimentId}-${arm}-${v}-${view}`;
        decisionRows.push({
          id,
          ts: START + 60_000 * (v + view),
          visitorHash: `${arm}-${v}`.padEnd(64, "0"),
          policyVersion: arm,
          featureSpecHash: "spec",
          context: "{}",
          features: "[]",
          stateKey: 0,
          eligible: "[]",
          action: action[arm]!,
          propensity: 0.95,
          explored: false,
          experimentId,
          arm,
        });
        if (view === 1 && u() < conversion[arm]!) {
          outcomeRows.push({
            decisionId: id,
            ts: START + 3_600_000,
            kind: "conversion",
            value: 60,
            eventKey: `o-${id}`,
          });
        }
      }
    }
  }
  await writeLogMessages(env.DB, [
    ...decisionRows.map((row): LogMessage => ({ type: "decision", row })),
    ...outcomeRows.map((row): LogMessage => ({ type: "outcome", row })),
  ]);
}

async function runMonitor(h: Harness) {
  await h.worker.scheduled(
    createScheduledController({ scheduledTime: START + 86_400_000, cron: "*/15 * * * *" }),
    h.env,
  );
}

async function adminView(h: Harness) {
  const response = await call(
    h,
    new Request("https://promo.example/v1/policy", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }),
  );
  return response.json<Record<string, unknown>>();
}

test("the scheduled monitor rolls back a canary that loses money, with no human step, and says why", async () => {
  const h = harness();
  await publish(env.POLICY, qtablePolicy("current", "none"));
  await startCanary("canary-worse");
  // The candidate shows pct20 on every page view and converts no more than the control: the
  // discount is pure cost.
  await seedLogs("canary-worse", 1_500, { control: 0.1, candidate: 0.1 }, { control: "none", candidate: "pct20" });
  await runMonitor(h);

  expect(await env.POLICY.get(EXPERIMENT_KEY)).toBeNull();
  const last = await new ExperimentRegistry(env.POLICY).last();
  expect(last).toMatchObject({ outcome: "rolled_back", by: "monitor", experiment: { id: "canary-worse" } });
  expect(last!.reason).toMatch(/candidate (loses value|breaks the promotion-cost guardrail)/);
  expect(JSON.parse((await env.POLICY.get(POLICY_POINTER_KEY))!)).toMatchObject({ version: "current" });
  expect(await adminView(h)).toMatchObject({
    experiment: null,
    lastExperiment: { outcome: "rolled_back", reason: last!.reason },
    monitorLook: { experimentId: "canary-worse", action: "rollback" },
  });
});

test("a canary that wins is promoted by the monitor when the experiment allows it: the pointer moves to it", async () => {
  const h = harness();
  await publish(env.POLICY, qtablePolicy("current", "none"));
  // The shop lets a winner spend up to 2 more per visitor on promotions than the control.
  const experiment = await startCanary("canary-better", { autoPromote: true, maxPromotionCostIncrease: 2 });
  // The candidate's free gift (cost 4) lifts conversion from 8% to 24%.
  await seedLogs("canary-better", 1_500, { control: 0.08, candidate: 0.24 }, { control: "none", candidate: "gift" });
  await runMonitor(h);

  const last = await new ExperimentRegistry(env.POLICY).last();
  expect(last).toMatchObject({ outcome: "promoted", by: "monitor" });
  const candidate = experiment.arms[1]!.serves;
  expect(JSON.parse((await env.POLICY.get(POLICY_POINTER_KEY))!)).toEqual({
    version: "canary-better-cand",
    sha256: candidate.type === "policy" ? candidate.sha256 : "",
  });
});

test("while the evidence is thin the monitor only records its look", async () => {
  const h = harness();
  await startCanary("canary-young");
  await seedLogs("canary-young", 100, { control: 0.1, candidate: 0.1 }, { control: "none", candidate: "pct20" });
  await runMonitor(h);
  expect(await new ExperimentRegistry(env.POLICY).current()).toMatchObject({ id: "canary-young" });
  expect(await adminView(h)).toMatchObject({
    monitorLook: {
      experimentId: "canary-young",
      action: "continue",
      reason: expect.stringMatching(/waiting for 300 visitors/),
    },
  });
});
