import type { DeviceClass, PageType, ReferrerClass } from "../../shared/context.ts";
import { VISIT_GAP_MS } from "../../shared/visitor.ts";
import type { Rng } from "../../shared/rng.ts";
import { MEMBER_TIERS, type CountryParams, type HourPeak, type MemberTier, type SimModel } from "./model.ts";
import {
  categorical,
  categoricalOf,
  drawCategorical,
  drawGeometric,
  drawInt,
  STREAM,
  streamRng,
  type Categorical,
} from "./random.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The traffic half of the model, prepared for sampling: who arrives, and what each page view looks like. */
export interface Traffic {
  model: SimModel;
  segment: Categorical<number>;
  country: Categorical<CountryParams>;
  segments: readonly SegmentTraffic[];
}

interface SegmentTraffic {
  device: Categorical<DeviceClass>;
  referrer: Categorical<ReferrerClass>;
  page: Categorical<PageType>;
  hour: Categorical<number>;
  /** Over the model's cart prices (non-empty carts only). */
  cart: Categorical<number>;
  memberTier: Categorical<MemberTier>;
}

export function compileTraffic(model: SimModel): Traffic {
  return {
    model,
    segment: categorical(
      model.segments.map((_, i) => i),
      model.segments.map((s) => s.share),
    ),
    country: categorical(
      model.countries,
      model.countries.map((c) => c.weight),
    ),
    segments: model.segments.map((s) => ({
      device: categoricalOf(s.device),
      referrer: categoricalOf(s.referrer),
      page: categoricalOf(s.page),
      hour: categorical(
        Array.from({ length: 24 }, (_, h) => h),
        dailyRhythm(s.activeHours),
      ),
      cart: categorical(model.cartPrices, logNormalWeights(model.cartPrices, s.cartMedian, model.cartSpread)),
      memberTier: categorical(
        MEMBER_TIERS,
        MEMBER_TIERS.map((tier) => s.memberTier[tier]),
      ),
    })),
  };
}

/** 24 hourly weights: a floor of night-owl traffic plus circular bumps (2 h wide) at each peak. */
function dailyRhythm(peaks: readonly HourPeak[]): number[] {
  return Array.from({ length: 24 }, (_, h) => {
    let w = 0.1;
    for (const { hour, weight } of peaks) {
      const d = Math.min(Math.abs(h - hour), 24 - Math.abs(h - hour));
      w += weight * Math.exp(-(d * d) / 8);
    }
    return w;
  });
}

/** A log-normal shape over the price points: carts cluster around the segment's median. */
function logNormalWeights(prices: readonly number[], median: number, spread: number): number[] {
  return prices.map((x) => Math.exp(-((Math.log(x / median) / spread) ** 2) / 2));
}

/** What stays fixed for a visitor: the segment, and the observables that come with the person. */
export interface VisitorProfile {
  index: number;
  /** The id the edge would keep in its cookie. */
  id: string;
  segment: number;
  device: DeviceClass;
  country: CountryParams;
  /** First page view, ms. */
  arrival: number;
  /** Referrer of the first visit. */
  referrer: ReferrerClass;
  /** What the shop knows of the person: drawn from a stream of its own, so that every other draw is the same with or without it. */
  shop: { member: boolean; tier: MemberTier | null; priorOrders: number };
}

export function drawVisitor(traffic: Traffic, seed: number, index: number): VisitorProfile {
  const rng = streamRng(seed, STREAM.visitor, index);
  const segment = drawCategorical(rng, traffic.segment);
  const own = traffic.segments[segment]!;
  const device = drawCategorical(rng, own.device);
  const country = drawCategorical(rng, traffic.country);
  const day = drawInt(rng, 0, traffic.model.arrivalDays - 1);
  const arrival = localTimeToUtc(traffic.model.startTime + day * DAY_MS, drawCategorical(rng, own.hour), rng, country);
  return {
    index,
    id: `sim-${seed}-${index}`,
    segment,
    device,
    country,
    arrival,
    referrer: drawCategorical(rng, own.referrer),
    shop: drawShopProfile(traffic, segment, streamRng(seed, STREAM.profile, index)),
  };
}

function drawShopProfile(traffic: Traffic, segment: number, rng: Rng): VisitorProfile["shop"] {
  const params = traffic.model.segments[segment]!;
  const member = rng() < params.memberRate;
  const tier = drawCategorical(rng, traffic.segments[segment]!.memberTier);
  return { member, tier: member ? tier : null, priorOrders: drawGeometric(rng, params.priorOrders + 1) - 1 };
}

/** The page and cart of one page view: independent draws given the segment, so that contexts are i.i.d. per step. */
export interface PageDraw {
  page: PageType;
  cartValue: number;
}

export function drawPage(traffic: Traffic, segment: number, rng: Rng): PageDraw {
  const own = traffic.segments[segment]!;
  const page = drawCategorical(rng, own.page);
  const empty = rng() < traffic.model.emptyCart[page];
  return { page, cartValue: empty ? 0 : drawCategorical(rng, own.cart) };
}

/** Every page view a segment can produce, with its probability: the context support value iteration sums over. */
export function pageSupport(
  traffic: Traffic,
  segment: number,
): { page: PageType; cartValue: number; probability: number }[] {
  const own = traffic.segments[segment]!;
  const support: { page: PageType; cartValue: number; probability: number }[] = [];
  own.page.values.forEach((page, i) => {
    const pPage = own.page.probabilities[i]!;
    const pEmpty = traffic.model.emptyCart[page];
    if (pPage === 0) return;
    if (pEmpty > 0) support.push({ page, cartValue: 0, probability: pPage * pEmpty });
    own.cart.values.forEach((cartValue, j) => {
      const p = pPage * (1 - pEmpty) * own.cart.probabilities[j]!;
      if (p > 0) support.push({ page, cartValue, probability: p });
    });
  });
  return support;
}

/** When the next page view happens, and whether it opens a new visit (with its own landing referrer). */
export interface NextPageView {
  ts: number;
  newVisit: boolean;
  referrer: ReferrerClass;
}

/**
 * The visit rhythm, drawn with a fixed number of draws whatever the outcome, so that the timeline of
 * a visitor is the same under every policy; only where it stops (churn) depends on the policy.
 * `stays` decides between the next page of this visit (seconds later) and the next visit (days later).
 */
export function drawNextPageView(
  traffic: Traffic,
  visitor: VisitorProfile,
  ts: number,
  stays: boolean,
  rng: Rng,
): NextPageView {
  const own = traffic.segments[visitor.segment]!;
  const secondsLater = drawInt(rng, 20, 240);
  const gapDays = drawGeometric(rng, traffic.model.segments[visitor.segment]!.daysBetweenVisits);
  const hour = drawCategorical(rng, own.hour);
  const referrer = drawCategorical(rng, own.referrer);
  const start = localTimeToUtc(localMidnight(ts, visitor.country) + gapDays * DAY_MS, hour, rng, visitor.country);
  if (stays) return { ts: ts + secondsLater * 1000, newVisit: false, referrer };
  // A visit late at night followed by one just after midnight must still read as two visits to the edge.
  return { ts: start - ts > VISIT_GAP_MS ? start : start + DAY_MS, newVisit: true, referrer };
}

/** The local clock fields the edge derives from the request's time zone. */
export function localClock(ts: number, country: CountryParams): { localHour: number; weekday: number } {
  const local = new Date(ts + country.utcOffsetHours * HOUR_MS);
  return { localHour: local.getUTCHours(), weekday: local.getUTCDay() };
}

function localMidnight(ts: number, country: CountryParams): number {
  const offset = country.utcOffsetHours * HOUR_MS;
  return Math.floor((ts + offset) / DAY_MS) * DAY_MS;
}

/** UTC time of `hour`:mm (a random minute) on the local day starting at `localDay`. */
function localTimeToUtc(localDay: number, hour: number, rng: Rng, country: CountryParams): number {
  return localDay + hour * HOUR_MS + drawInt(rng, 0, 3599) * 1000 - country.utcOffsetHours * HOUR_MS;
}
