/** The shape of Q(s, a) = visitor(s) · promotion(a)[0..d) + promotion(a)[d]. No tfjs here: the bench sizes its fixtures by it. */
export interface TwoTowerShape {
  visitorHidden: readonly number[];
  promotionHidden: readonly number[];
  /** d: the width of the visitor embedding. */
  embedding: number;
  /** The training catalogue's encoded promotions, in action order. */
  promotions: readonly Float32Array[];
}

export const DEFAULT_TWO_TOWER = { visitorHidden: [64], promotionHidden: [16], embedding: 16 } as const;
