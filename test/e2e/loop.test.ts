import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { writeLogMessages } from "../../edge/logging/d1-writer.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { PolicyRegistry } from "../../shared/policy-registry.ts";
import { encodePolicy } from "../../shared/policy/format.ts";
import type { LogMessage } from "../../shared/schema.ts";
import { canaryExperiment } from "../../trainer/experiment/canary.ts";
import { LOOP_LOCK_KEY } from "../../trainer/cli/commands/loop.ts";
import { main } from "../../trainer/cli/main.ts";
import { openLocalBindings } from "../../trainer/runtime/local-bindings.ts";
import { controlChooser, fixedChooser } from "../../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { favouringPolicy } from "../trainer/support/policies.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";
import { applyLocalMigrations } from "../../scripts/local-env.ts";

let dir: string;

/** Simulated shoppers of a running canary: the control's on one arm, always-pct20's on the other. */
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "edge-promo-loop-"));
  await applyLocalMigrations(dir);
  const bindings = await openLocalBindings({ persistTo: dir });
  try {
    const stored = await new PolicyRegistry(bindings.POLICY).store(
      encodePolicy(favouringPolicy("loop-pct20", "pct20")),
    );
    const experiment = canaryExperiment({
      id: "loop-canary",
      candidate: { version: stored.version, sha256: stored.sha256 },
      current: null,
      share: 0.5,
      startedAt: new Date(DEFAULT_SIM_MODEL.startTime),
    });
    await new ExperimentRegistry(bindings.POLICY).start(experiment);
    const arms = [
      { arm: "control", policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL), seed: 61 },
      { arm: "candidate", policy: fixedChooser("pct20", DEFAULT_CATALOGUE), seed: 62 },
    ];
    const messages: LogMessage[] = arms.flatMap(({ arm, policy, seed }) =>
      simulateTraffic({ seed, visitors: 700, policy }).steps.flatMap((s) => [
        { type: "decision" as const, row: { ...s.decision, experimentId: "loop-canary", arm } },
        ...s.outcomes.map((row) => ({ type: "outcome" as const, row })),
      ]),
    );
    await writeLogMessages(bindings.DB, messages);
  } finally {
    await bindings.dispose();
  }
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function loop(): Promise<{ step: string; [key: string]: unknown }> {
  const printed = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    const args = ["loop", "--source", "local", "--target", "local", "--persist-to", dir, "--window", "2d"];
    const out = ["--out", path.join(dir, "candidate.bin"), "--report", path.join(dir, "candidate.html"), "--json"];
    expect(await main([...args, ...out])).toBe(0);
    return JSON.parse(String(printed.mock.calls.at(-1)![0]));
  } finally {
    printed.mockRestore();
  }
}

test("promo loop judges the running canary and rolls a loser back, then trains; each call one step, and overlapping calls step aside", async () => {
  const first = await loop();
  expect(first).toMatchObject({ step: "rolled_back", experiment: "loop-canary" });
  const bindings = await openLocalBindings({ persistTo: dir });
  try {
    const registry = new ExperimentRegistry(bindings.POLICY);
    expect(await registry.current()).toBeNull();
    expect(await registry.last()).toMatchObject({ outcome: "rolled_back", by: "loop" });

    // Nothing runs now: the next call trains, and starts a canary only if the gate lets the candidate through.
    const second = await loop();
    expect(["refused", "canary_started"]).toContain(second.step);
    expect((await registry.current()) === null).toBe(second.step === "refused");
    if (second.step === "canary_started") await registry.end("stopped", "operator", "test", new Date());

    // A run in progress holds the lock: another steps aside without touching anything.
    await bindings.POLICY.put(LOOP_LOCK_KEY, new Date().toISOString());
  } finally {
    await bindings.dispose();
  }
  expect(await loop()).toMatchObject({ step: "skipped" });
}, 180_000);
