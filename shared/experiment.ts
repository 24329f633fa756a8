import { z } from "zod";
import { hash53 } from "./hash.ts";
import { parseStored, policyPointerSchema } from "./policy-store.ts";

/**
 * The running experiment, the contract between `promo experiment` (and the monitor) and the edge:
 * `experiment:current` in the POLICY namespace. Absent, every visitor gets the current policy.
 */
export const EXPERIMENT_KEY = "experiment:current";

const name = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\w.-]+$/, "use letters, digits, '.', '_' and '-'");

/** What an arm serves: the shop's control, one fixed promotion, or a published policy version. */
export const armServesSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("control") }),
  z.object({ type: z.literal("promotion"), id: name(64) }),
  z.object({ type: z.literal("policy"), ...policyPointerSchema.shape }),
]);
export type ArmServes = z.infer<typeof armServesSchema>;

export const armSchema = z.object({
  name: name(32),
  serves: armServesSchema,
  /** Relative share of visitors; the shares are the weights over their sum. */
  weight: z.number().positive().max(1_000_000),
});
export type Arm = z.infer<typeof armSchema>;

/** The monitor's rule for this experiment: what is given overrides DEFAULT_MONITOR_RULE. */
export const monitorRuleSchema = z
  .object({
    alpha: z.number().gt(0).lt(0.5),
    tauInSds: z.number().positive().max(10),
    minVisitorsPerArm: z.number().int().min(10),
    maxPromotionCostIncrease: z.number().min(0),
    maxConversionRateDrop: z.number().min(0).max(1),
    autoPromote: z.boolean(),
  })
  .partial();

export const experimentSchema = z
  .object({
    id: name(64),
    /** ISO 8601. Decisions before it are not the experiment's. */
    startedAt: z.iso.datetime(),
    monitor: monitorRuleSchema.optional(),
    /**
     * A stored policy version run in shadow: on every page view of the experiment it is asked what it
     * would have done (its exact probabilities over the eligible promotions, logged beside the
     * decision) and never decides. An experiment of one arm and a shadow is a shadow run alone.
     */
    shadow: policyPointerSchema.optional(),
    arms: z
      .array(armSchema)
      .min(1)
      .max(8)
      .refine((arms) => new Set(arms.map((a) => a.name)).size === arms.length, "arm names must be unique"),
  })
  .refine((e) => e.arms.length >= 2 || e.shadow !== undefined, {
    message: "an experiment needs two arms, or one arm and a shadow",
    path: ["arms"],
  });
export type Experiment = z.infer<typeof experimentSchema>;

/** The experiment's text as KV holds it, checked. Throws PolicyStoreError naming the key. */
export function parseExperiment(text: string): Experiment {
  return parseStored(EXPERIMENT_KEY, text, experimentSchema);
}

/**
 * The visitor's arm: a hash of (experiment id, visitor hash) placed on the arms' cumulative
 * weights. The visitor hash is itself an HMAC under the edge's secret, so nobody outside can
 * predict or choose an arm; the same visitor always lands in the same arm of an experiment
 * (sticky across visits and isolates), and in unrelated arms of another one (the id is hashed in).
 */
export function assignArm(experiment: Experiment, visitorHashHex: string): Arm {
  const total = experiment.arms.reduce((sum, arm) => sum + arm.weight, 0);
  let point = (hash53(`${experiment.id}\u0000${visitorHashHex}`) / 2 ** 53) * total;
  for (const arm of experiment.arms) {
    point -= arm.weight;
    if (point < 0) return arm;
  }
  return experiment.arms.at(-1)!;
}
