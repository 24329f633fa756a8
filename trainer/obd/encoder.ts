import { z } from "zod";
import type { Catalogue, ControlPolicy, Promotion } from "../../shared/catalogue.ts";
import { canonicalJson, fingerprint } from "../../shared/hash.ts";
import type { Encoder } from "../data/encoders.ts";

/**
 * The Open Bandit Dataset's state and action space. OBD rows are not edge contexts, so they get
 * their own encoder, described by plain data that travels in the JSONL file's meta line: a reader
 * rebuilds exactly the encoder the importer used.
 */
export interface ObdEncoderDescriptor {
  name: "obd";
  /** The distinct values of user_feature_0..3 seen by the importer, most frequent first. */
  userFeatureValues: string[][];
  /** Items, i.e. actions; also the number of user-item affinities per row. */
  itemCount: number;
  /** Slots on the page (1-based in the data). */
  positionCount: number;
}

export const obdEncoderDescriptorSchema = z.object({
  name: z.literal("obd"),
  userFeatureValues: z.array(z.array(z.string())),
  itemCount: z.number().int().positive(),
  positionCount: z.number().int().positive(),
});

/** The raw context the importer logs for one OBD impression. */
const obdContextSchema = z.object({
  position: z.number().int().min(1),
  userFeatures: z.array(z.string()),
  affinities: z.array(z.number()),
});

function obdActionIds(itemCount: number): string[] {
  return Array.from({ length: itemCount }, (_, i) => `item_${i}`);
}

/**
 * Features: each user feature one-hot over its known values plus "other"; the affinities through
 * log1p (they are counts with a long tail); the position one-hot. The Q-table state is
 * user_feature_0 × position: the coarsest split that still separates the main user groups and slots,
 * small enough that 10,000 rows fill every cell.
 */
export function obdEncoder(descriptor: ObdEncoderDescriptor): Encoder {
  const { userFeatureValues, itemCount, positionCount } = descriptor;
  const indexes = userFeatureValues.map((values) => new Map(values.map((v, i) => [v, i])));
  const slotNames = [
    ...userFeatureValues.flatMap((values, k) => [
      ...values.map((v) => `user_feature_${k}=${v.slice(0, 8)}`),
      `user_feature_${k}=other`,
    ]),
    ...obdActionIds(itemCount).map((id) => `affinity_${id}`),
    ...Array.from({ length: positionCount }, (_, p) => `position=${p + 1}`),
  ];
  const stateGroups = (userFeatureValues[0]?.length ?? 0) + 1;
  return {
    hash: fingerprint(canonicalJson(descriptor)),
    width: slotNames.length,
    stateCount: stateGroups * positionCount,
    slotNames,
    actions: obdActionIds(itemCount),
    encode(rawContext) {
      const parsed = obdContextSchema.safeParse(rawContext);
      if (!parsed.success) return { error: "context-invalid" };
      const { position, userFeatures, affinities } = parsed.data;
      if (
        userFeatures.length !== userFeatureValues.length ||
        affinities.length !== itemCount ||
        position > positionCount
      ) {
        return { error: "context-invalid" };
      }
      const features = new Float32Array(slotNames.length);
      let offset = 0;
      const groupOf = userFeatures.map((value, k) => indexes[k]!.get(value) ?? userFeatureValues[k]!.length);
      groupOf.forEach((group, k) => {
        features[offset + group] = 1;
        offset += userFeatureValues[k]!.length + 1;
      });
      affinities.forEach((a, i) => (features[offset + i] = Math.log1p(Math.max(0, a))));
      offset += itemCount;
      features[offset + position - 1] = 1;
      return { features, stateKey: (groupOf[0] ?? 0) * positionCount + (position - 1) };
    },
  };
}

/**
 * OBD's actions are fashion items, not promotions: showing one costs the shop nothing, and the
 * only outcome is the click. `kind` and `display` exist because a Promotion must have them; imported
 * data is never shown to anyone.
 */
/**
 * The control of OBD logs. The dataset has no "no promotion" item to fall back on; what served
 * before any policy is the random campaign that logged it, uniform over the items. Exploring
 * everything (1) is that campaign exactly, whichever item is named.
 */
export const OBD_CONTROL: ControlPolicy = { action: obdActionIds(1)[0]!, exploration: 1 };

export function obdCatalogue(itemCount: number): Catalogue {
  return obdActionIds(itemCount).map((id): Promotion => ({
    id,
    kind: "none",
    display: { headline: `OBD ${id}` },
    cost: { type: "free" },
    attributes: { depthPct: 0, fixedValue: 0, shipping: false, basketUplift: 1 },
    eligibility: {},
  }));
}
