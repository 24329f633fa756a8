import { z } from "zod";
import { EXPERIMENT_KEY, experimentSchema, parseExperiment, type Experiment } from "./experiment.ts";
import { sha256Hex } from "./hash.ts";
import type { PolicyKv } from "./policy-kv.ts";
import { PolicyRegistry } from "./policy-registry.ts";
import { parseStored, policyVersionKey } from "./policy-store.ts";

/** The experiment that ended last, and how: what the operator reads after the monitor acted. */
export const LAST_EXPERIMENT_KEY = "experiment:last";
/** The monitor's latest look at the running experiment. */
export const EXPERIMENT_LOOK_KEY = "experiment:look";

export const endedExperimentSchema = z.object({
  experiment: experimentSchema,
  endedAt: z.iso.datetime(),
  outcome: z.enum(["rolled_back", "promoted", "stopped"]),
  /** monitor: the Worker's cron; loop: `promo loop`; operator: a person, through the CLI. */
  by: z.enum(["monitor", "loop", "operator"]),
  reason: z.string(),
});
export type EndedExperiment = z.infer<typeof endedExperimentSchema>;

export const monitorLookSchema = z.object({
  experimentId: z.string(),
  at: z.iso.datetime(),
  action: z.enum(["continue", "rollback", "promote", "winner"]),
  reason: z.string(),
});
export type MonitorLook = z.infer<typeof monitorLookSchema>;

export class ExperimentError extends Error {
  override readonly name = "ExperimentError";
}

/**
 * Starting, ending and promoting experiments in KV, for the CLI and the edge's monitor alike.
 * Ending one deletes `experiment:current`, so traffic returns to the current policy pointer (which
 * an experiment never moves); promoting moves that pointer to the winning arm's version first.
 */
export class ExperimentRegistry {
  readonly #kv: PolicyKv;

  constructor(kv: PolicyKv) {
    this.#kv = kv;
  }

  async current(): Promise<Experiment | null> {
    const text = await this.#kv.get(EXPERIMENT_KEY, "text");
    return text === null ? null : parseExperiment(text);
  }

  async last(): Promise<EndedExperiment | null> {
    const text = await this.#kv.get(LAST_EXPERIMENT_KEY, "text");
    return text === null ? null : parseStored(LAST_EXPERIMENT_KEY, text, endedExperimentSchema);
  }

  async look(): Promise<MonitorLook | null> {
    const text = await this.#kv.get(EXPERIMENT_LOOK_KEY, "text");
    return text === null ? null : parseStored(EXPERIMENT_LOOK_KEY, text, monitorLookSchema);
  }

  async recordLook(look: MonitorLook): Promise<void> {
    await this.#kv.put(EXPERIMENT_LOOK_KEY, JSON.stringify(look));
  }

  /** Starts `experiment`; refuses while another runs, or when a policy arm's bytes are not in KV as named. */
  async start(experiment: Experiment): Promise<void> {
    const parsed = experimentSchema.parse(experiment);
    const running = await this.current();
    if (running !== null) throw new ExperimentError(`experiment ${running.id} is running; stop it first`);
    for (const arm of parsed.arms) {
      if (arm.serves.type !== "policy") continue;
      const bytes = await this.#kv.get(policyVersionKey(arm.serves.version), "arrayBuffer");
      if (bytes === null) throw new ExperimentError(`arm ${arm.name}: no policy version ${arm.serves.version} in KV`);
      if ((await sha256Hex(new Uint8Array(bytes))) !== arm.serves.sha256) {
        throw new ExperimentError(`arm ${arm.name}: policy ${arm.serves.version} does not hash to the given sha256`);
      }
    }
    await this.#kv.put(EXPERIMENT_KEY, JSON.stringify(parsed));
  }

  async end(
    outcome: EndedExperiment["outcome"],
    by: EndedExperiment["by"],
    reason: string,
    now: Date,
  ): Promise<EndedExperiment> {
    const experiment = await this.current();
    if (experiment === null) throw new ExperimentError("no experiment is running");
    const ended: EndedExperiment = { experiment, endedAt: now.toISOString(), outcome, by, reason };
    await this.#kv.put(LAST_EXPERIMENT_KEY, JSON.stringify(ended));
    await this.#kv.delete(EXPERIMENT_KEY);
    return ended;
  }

  /** Moves the policy pointer to `armName`'s version, then ends the experiment as promoted. */
  async promote(armName: string, by: EndedExperiment["by"], reason: string, now: Date): Promise<EndedExperiment> {
    const experiment = await this.current();
    if (experiment === null) throw new ExperimentError("no experiment is running");
    const arm = experiment.arms.find((a) => a.name === armName);
    if (!arm) throw new ExperimentError(`experiment ${experiment.id} has no arm ${armName}`);
    if (arm.serves.type !== "policy") {
      throw new ExperimentError(
        `arm ${armName} serves the ${arm.serves.type}, not a policy version: nothing to promote`,
      );
    }
    const { version, sha256 } = arm.serves;
    await new PolicyRegistry(this.#kv).movePointer({ version, sha256 }, "promote", now);
    return this.end("promoted", by, reason, now);
  }
}
