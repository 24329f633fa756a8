import { z } from "zod";
import { DEFAULT_CONTROL, type Catalogue, type ControlPolicy } from "../../shared/catalogue.ts";
import { DEFAULT_CATALOGUE_DOCUMENT, type CatalogueDocument } from "../../shared/catalogue-document.ts";
import { compileFeatureSpec, DEFAULT_FEATURE_SPEC, withProfileFields } from "../../shared/features.ts";
import { contextEncoder, type Encoder } from "./encoders.ts";
import { OBD_CONTROL, obdCatalogue, obdEncoder, obdEncoderDescriptorSchema } from "../obd/encoder.ts";
import { DEFAULT_REWARD_SPEC, type RewardSpec } from "../../shared/reward.ts";

/**
 * The optional first line of a JSONL log file: `{"type":"meta", ...}`. It says how the file's
 * rows are to be read: which encoder (and so which features, state keys and actions), and, for an
 * imported dataset whose outcomes mean something fixed, which reward. A file without one holds
 * edge logs, read with the edge's feature spec and catalogue.
 */
export const LOG_META_VERSION = 1;

const edgeEncoderDescriptorSchema = z.object({ name: z.literal("edge-context") });

const encoderDescriptorSchema = z.discriminatedUnion("name", [edgeEncoderDescriptorSchema, obdEncoderDescriptorSchema]);
export type EncoderDescriptor = z.infer<typeof encoderDescriptorSchema>;

const rewardSpecSchema = z.object({
  clickValue: z.number(),
  marginRate: z.number(),
  refundRate: z.number(),
}) satisfies z.ZodType<RewardSpec>;

export const logMetaSchema = z.object({
  type: z.literal("meta"),
  version: z.literal(LOG_META_VERSION),
  /** What the rows are, for people: "obd random/men", "edge logs exported from local". */
  dataset: z.string(),
  encoder: encoderDescriptorSchema,
  /** The reward the data supports, when it is fixed by the data (OBD: a click is worth 1). */
  reward: rewardSpecSchema.optional(),
});
export type LogMeta = z.infer<typeof logMetaSchema>;

/** How the trainer reads a source's rows: encoder, catalogue (action ids and costs), reward, and the control. */
export interface LogSetup {
  encoder: Encoder;
  catalogue: Catalogue;
  reward: RewardSpec;
  /** What the fallback serves: what a candidate is compared with when no policy is published. */
  control: ControlPolicy;
}

/**
 * Edge logs are read with the operator's configuration (`--catalogue`, as published to the edge):
 * its promotions are the actions, and its profile fields extend the feature spec.
 */
export function setupFromMeta(
  meta: LogMeta | undefined,
  document: CatalogueDocument = DEFAULT_CATALOGUE_DOCUMENT,
): LogSetup {
  const descriptor: EncoderDescriptor = meta?.encoder ?? { name: "edge-context" };
  const reward = meta?.reward ?? DEFAULT_REWARD_SPEC;
  switch (descriptor.name) {
    case "edge-context": {
      const spec = compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, document.profile));
      const encoder = contextEncoder(
        spec,
        document.promotions.map((p) => p.id),
      );
      return { encoder, catalogue: document.promotions, reward, control: DEFAULT_CONTROL };
    }
    case "obd":
      return {
        encoder: obdEncoder(descriptor),
        catalogue: obdCatalogue(descriptor.itemCount),
        reward,
        control: OBD_CONTROL,
      };
  }
}
