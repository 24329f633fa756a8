import { z } from "zod";
import { isTimeZone } from "./clock.ts";
import { contextSchema } from "./context.ts";

/** The HTTP API's bodies, shared by the Worker that answers them and the clients (the simulator's driver) that send them. */
const fields = contextSchema.shape;

/**
 * What the page tells /v1/decide. Only page type and cart value are required: the rest defaults to
 * what the request itself says (User-Agent, cf.country, cf.timezone, Referer). Fields the client
 * sends take precedence, because a shop's server calling on a visitor's behalf knows the visitor's
 * device and country, and its own request headers do not. Unknown keys are ignored.
 */
export const decideRequestSchema = z.object({
  context: z.object({
    page: fields.page,
    cartValue: fields.cartValue,
    /** A referrer class, or a URL (the page's `document.referrer`) to classify. */
    referrer: z.string().max(2048).optional(),
    device: fields.device.optional(),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, "expected an ISO 3166-1 alpha-2 country code")
      .transform((code) => code.toUpperCase())
      .optional(),
    timezone: z.string().max(64).refine(isTimeZone, "expected an IANA time zone such as Europe/Paris").optional(),
    localHour: fields.localHour.optional(),
    weekday: fields.weekday.optional(),
    /** The shop's profile fields that come from the body, by name (see the catalogue's `profile`). */
    profile: z.record(z.string().max(64), z.unknown()).optional(),
  }),
  /** Promotion ids the page has room for; absent means any. */
  candidates: z.array(z.string().max(64)).min(1).max(64).optional(),
});
export type DecideRequest = z.infer<typeof decideRequestSchema>;
export type RequestContext = DecideRequest["context"];

const decisionId = z.string().min(1).max(128);
/**
 * The shop's own key for one event (an order number, say), which makes a retried report idempotent.
 * Letters, digits and `.`, `_`, `:`, `-` only: it is stored as it is, so it must not carry personal data.
 */
const eventKey = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, "expected 1–128 letters, digits or . _ : -")
  .optional();
const amount = z.number().min(0).max(1e9);

/** What the site reports to /v1/outcome. Conversions and refunds must say how much. */
export const outcomeRequestSchema = z.discriminatedUnion("kind", [
  z.object({ decisionId, kind: z.literal("click"), value: amount.optional(), eventKey }),
  z.object({ decisionId, kind: z.literal("conversion"), value: amount, eventKey }),
  z.object({ decisionId, kind: z.literal("refund"), value: amount, eventKey }),
]);

/** What /v1/decide answers. A promotion other than "nothing" comes with its offer token (shared/offer-token.ts). */
export const decideResponseSchema = z.object({
  decisionId: z.string(),
  promotion: z.looseObject({ id: z.string(), kind: z.string() }),
  propensity: z.number(),
  policyVersion: z.string(),
  explored: z.boolean(),
  offer: z.object({ token: z.string(), expiresAt: z.string() }).optional(),
});

/** What the shop's server sends to /v1/offer/verify at checkout; `promotionId`, when given, must match. */
export const offerVerifyRequestSchema = z.object({
  token: z.string().min(1).max(1024),
  promotionId: z.string().max(64).optional(),
});
export type DecideResponse = z.infer<typeof decideResponseSchema>;
