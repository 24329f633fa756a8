import type { Dataset } from "../data/dataset.ts";
import { DEFAULT_DQN_OPTIONS, trainDqn, type DqnOptions } from "./dqn/train.ts";
import { DEFAULT_QLEARNING_OPTIONS, learnQTableFromColumns } from "./qlearning.ts";
import { transitionColumns } from "../data/transitions.ts";

/** Learning speed on a given dataset, for `npm run bench`. Numbers only: no targets here. */
export interface Throughput {
  transitions: number;
  seconds: number;
  transitionsPerSecond: number;
  /** What did the work: "typescript" for the Q-table, the tfjs backend for the DQN. */
  backend: string;
}

/** Tabular sweeps per second over the dataset's steps, column extraction excluded. */
export function measureQTableThroughput(dataset: Dataset, sweeps = 5, gamma = 0.9): Throughput {
  const result = learnQTableFromColumns(transitionColumns(dataset), {
    ...DEFAULT_QLEARNING_OPTIONS,
    gamma,
    // A negative tolerance never converges, so every requested sweep runs.
    tolerance: -1,
    maxSweeps: sweeps,
  });
  const transitions = result.sweeps * dataset.steps.length;
  return {
    transitions,
    seconds: transitions / result.transitionsPerSecond,
    transitionsPerSecond: result.transitionsPerSecond,
    backend: "typescript",
  };
}

/**
 * DQN minibatch transitions per second on the active tfjs backend (select it first). Two epochs
 * run and the second is reported, so one-off costs (kernel set-up, first allocations) stay out.
 */
export function measureDqnThroughput(dataset: Dataset, options: Partial<DqnOptions> = {}): Throughput {
  const result = trainDqn(dataset, { ...options, epochs: 2 });
  result.network.dispose();
  const last = result.history.at(-1)!;
  const transitions = (result.updates / 2) * (options.batchSize ?? DEFAULT_DQN_OPTIONS.batchSize);
  return {
    transitions,
    seconds: transitions / last.transitionsPerSecond,
    transitionsPerSecond: last.transitionsPerSecond,
    backend: result.backend,
  };
}
