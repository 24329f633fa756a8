/**
 * Every measurement `npm run bench` knows, in the order they run. To add one, write a module that
 * exports a {@link Measurement} and append it here; `--only <name>` selects it by its `name`.
 * Cheap, in-process measurements come first, so that a broken Worker build does not hide them.
 */
import { decideCpu } from "./decide-cpu.ts";
import { decideCpuWorkerd } from "./decide-cpu-workerd.ts";
import { decideRequestCpu } from "./decide-request-cpu.ts";
import { policyColdLoad } from "./cold-load.ts";
import { throughput } from "./throughput.ts";
import { logLoss } from "./log-loss.ts";
import { logStorage } from "./log-storage.ts";
import { archiveScale } from "./archive-scale.ts";
import { obdBenchmark } from "./obd.ts";
import { trainerThroughput } from "./trainer-throughput.ts";
import { simQuality } from "./sim-quality.ts";
import { simLearning } from "./sim-learning.ts";
import { simNewPromotion } from "./sim-new-promotion.ts";
import { experiments } from "./experiments.ts";
import type { Measurement } from "./types.ts";

export const MEASUREMENTS: readonly Measurement[] = [
  decideCpu,
  decideCpuWorkerd,
  decideRequestCpu,
  policyColdLoad,
  throughput,
  logLoss,
  logStorage,
  archiveScale,
  trainerThroughput,
  obdBenchmark,
  simQuality,
  simNewPromotion,
  experiments,
  simLearning,
];
