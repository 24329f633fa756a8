import { z } from "zod";

export const DEVICE_CLASSES = ["mobile", "tablet", "desktop", "other"] as const;
export const PAGE_TYPES = ["home", "category", "product", "search", "cart", "checkout", "other"] as const;
export const REFERRER_CLASSES = ["direct", "search", "social", "email", "paid", "other"] as const;

export type DeviceClass = (typeof DEVICE_CLASSES)[number];
export type PageType = (typeof PAGE_TYPES)[number];
export type ReferrerClass = (typeof REFERRER_CLASSES)[number];

/** What the visitor's signed cookie remembers between page views. */
export const visitorStateSchema = z.object({
  visits: z.number().int().min(0),
  daysSinceLastVisit: z.number().min(0).nullable(),
  purchases: z.number().int().min(0),
  daysSinceLastPurchase: z.number().min(0).nullable(),
  promosSeen7d: z.number().int().min(0),
  lastPromotion: z.string().max(64).nullable(),
});
export type VisitorState = z.infer<typeof visitorStateSchema>;

/**
 * The full decision context: everything a policy may look at. It is logged raw (as JSON) next to
 * its encoding, so that a trainer with a newer feature spec can re-encode old rows.
 * `null` means "never": no previous visit, no purchase, no promotion shown.
 */
export const contextSchema = z
  .object({
    device: z.enum(DEVICE_CLASSES),
    country: z.string().regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2 code, upper case"),
    localHour: z.number().int().min(0).max(23),
    weekday: z.number().int().min(0).max(6),
    page: z.enum(PAGE_TYPES),
    referrer: z.enum(REFERRER_CLASSES),
    cartValue: z.number().min(0).max(1_000_000),
    /** The shop's profile fields (shared/profile.ts), by name; absent when the spec declares none. */
    profile: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  })
  .extend(visitorStateSchema.shape);
export type Context = z.infer<typeof contextSchema>;

export const NEW_VISITOR: VisitorState = {
  visits: 0,
  daysSinceLastVisit: null,
  purchases: 0,
  daysSinceLastPurchase: null,
  promosSeen7d: 0,
  lastPromotion: null,
};
