/**
 * Learning speed on simulated logs: a tabular Q-learning sweep (TypeScript) and a DQN epoch on the
 * wasm backend, which every machine has; a GPU box would report its own backend the same way.
 */
import { selectBackend } from "../trainer/runtime/backend.ts";
import { simulateLogs } from "../trainer/sim/pipeline.ts";
import { measureDqnThroughput, measureQTableThroughput } from "../trainer/learn/throughput.ts";
import { withTarget, type Measurement } from "./types.ts";

export const trainerThroughput: Measurement = {
  name: "trainer-throughput",
  description: "transitions/s of a Q-table sweep and of a DQN epoch (wasm), on simulated logs",
  async run({ quick, log }) {
    const decisions = quick ? 20_000 : 200_000;
    log(`trainer-throughput: simulating about ${decisions} decisions under the uniform fallback`);
    const { dataset } = simulateLogs({ seed: 7, decisions });
    const qtable = measureQTableThroughput(dataset, quick ? 3 : 10);
    const backend = await selectBackend({ force: "wasm", warn: log });
    log(`trainer-throughput: DQN 64×64 on ${backend.label}`);
    const dqn = measureDqnThroughput(dataset);
    const note = `${dataset.steps.length} logged decisions (${dataset.steps.filter((s) => s.next >= 0).length} non-terminal)`;
    return [
      withTarget(
        {
          metric: "qtable_transitions_per_s",
          value: Math.round(qtable.transitionsPerSecond),
          unit: "transitions/s",
          backend: qtable.backend,
          note,
        },
        ">=",
        1_000_000,
      ),
      {
        metric: "dqn_transitions_per_s",
        value: Math.round(dqn.transitionsPerSecond),
        unit: "transitions/s",
        backend: dqn.backend,
        note: `${note}; batch 256, hidden 64×64, 2nd of 2 epochs`,
      },
    ];
  },
};
