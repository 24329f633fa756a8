import { z } from "zod";
import { DEFAULT_CATALOGUE, PROMOTION_KINDS, type Catalogue, type Promotion } from "./catalogue.ts";
import { LOCAL_DATE_TIME, localTimeToInstant } from "./campaign.ts";
import { isTimeZone } from "./clock.ts";
import { canonicalJson, fingerprint } from "./hash.ts";
import { profileFieldsSchema, type ProfileFieldSpec } from "./profile.ts";

/** Where the operator's catalogue lives in the policy KV namespace. Absent: the built-in DEFAULT_CATALOGUE. */
export const CATALOGUE_KEY = "catalogue/current";

/**
 * How a policy with promotion features treats a promotion its training logs barely showed: `share`
 * of every decision goes to such promotions (when eligible) until the logs the serving policy was
 * trained on hold `untilDecisions` decisions that showed it. Its Q-value, from its attributes
 * alone, is a guess; this is how the guess gets checked.
 */
export interface NewPromotionExploration {
  share: number;
  untilDecisions: number;
}

export const DEFAULT_NEW_PROMOTION_EXPLORATION: NewPromotionExploration = { share: 0.05, untilDecisions: 1000 };

/**
 * The operator's configuration, as published to KV (`promo catalogue publish`): the promotions the
 * edge may show, how it explores new ones, and the profile fields the shop declares about its
 * visitors (which extend the feature spec: a policy must be trained on the same fields).
 */
export interface CatalogueDocument {
  promotions: Catalogue;
  newPromotions: NewPromotionExploration;
  profile: readonly ProfileFieldSpec[];
}

export const DEFAULT_CATALOGUE_DOCUMENT: CatalogueDocument = {
  promotions: DEFAULT_CATALOGUE,
  newPromotions: DEFAULT_NEW_PROMOTION_EXPLORATION,
  profile: [],
};

const money = z.number().finite().min(0).max(1e6);
const localDateTime = z.string().regex(LOCAL_DATE_TIME, "a local date-time YYYY-MM-DDTHH:MM");
const timeZone = z.string().refine(isTimeZone, "an IANA time zone such as Europe/Paris");
const rate = z.number().min(0).max(1);

const promotionSchema = z.object({
  id: z.string().regex(/^[a-z0-9_-]{1,64}$/, "expected 1–64 lower-case letters, digits, _ or -"),
  kind: z.enum(PROMOTION_KINDS),
  display: z.object({
    headline: z.string().max(200),
    body: z.string().max(1000).optional(),
    code: z.string().max(64).optional(),
    badge: z.string().max(64).optional(),
  }),
  cost: z.discriminatedUnion("type", [
    z.object({ type: z.literal("free") }),
    z.object({ type: z.literal("percent_of_order"), rate }),
    z.object({ type: z.literal("fixed"), amount: money }),
    z.object({ type: z.literal("percent_of_order_capped"), rate, cap: money }),
  ]),
  attributes: z.object({
    depthPct: z.number().min(0).max(100),
    fixedValue: money,
    shipping: z.boolean(),
    basketUplift: z.number().min(0.5).max(5),
  }),
  eligibility: z.object({
    minCartValue: money.optional(),
    countries: z.array(z.string().regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2, upper case")).optional(),
    maxExposuresPerVisitor7d: z.number().int().min(0).optional(),
    window: z
      .object({
        start: localDateTime.optional(),
        end: localDateTime.optional(),
        timeZone,
      })
      .refine(
        (w) => !w.start || !w.end || localTimeToInstant(w.start, w.timeZone) < localTimeToInstant(w.end, w.timeZone),
        "the window must start before it ends",
      )
      .optional(),
    dailyBudget: z
      .object({ exposures: z.number().int().min(0).optional(), spend: money.optional(), timeZone })
      .refine(
        (b) => b.exposures !== undefined || b.spend !== undefined,
        "a daily budget needs exposures, spend or both",
      )
      .optional(),
  }),
}) satisfies z.ZodType<Promotion>;

export const catalogueDocumentSchema = z.object({
  promotions: z
    .array(promotionSchema)
    .min(1)
    .max(64)
    .refine((promotions) => promotions.length === 0 || promotions[0]!.kind === "none", {
      message: 'the first promotion must be of kind "none": it is what a visitor gets when nothing else is eligible',
    })
    .refine((promotions) => new Set(promotions.map((p) => p.id)).size === promotions.length, {
      message: "promotion ids must be unique",
    }),
  newPromotions: z
    .object({ share: rate, untilDecisions: z.number().int().min(0) })
    .default(DEFAULT_NEW_PROMOTION_EXPLORATION),
  profile: profileFieldsSchema.default([]),
}) satisfies z.ZodType<CatalogueDocument, unknown>;

export class CatalogueError extends Error {
  override readonly name = "CatalogueError";
}

/** Parses a published catalogue. Throws {@link CatalogueError} naming the first problem. */
export function parseCatalogueDocument(text: string): CatalogueDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CatalogueError(`${CATALOGUE_KEY} is not JSON: ${(error as Error).message}`);
  }
  const parsed = catalogueDocumentSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new CatalogueError(`${CATALOGUE_KEY}: ${issue.path.join(".") || "document"}: ${issue.message}`);
}

/** Stable hash of the promotions: logged with every decision, so that a row says which catalogue it was decided under. */
export function catalogueHash(catalogue: Catalogue): string {
  return fingerprint(canonicalJson(catalogue));
}
