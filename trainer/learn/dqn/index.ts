export { buildQNetwork, type QNetworkShape } from "./network.ts";
export { trainDqn, DEFAULT_DQN_OPTIONS, type DqnOptions, type DqnEpochStats, type DqnResult } from "./train.ts";
export { dqnToPolicy } from "./to-policy.ts";
export { buildTwoTowerNetwork, twoTowerToPolicy } from "./two-tower.ts";
export { DEFAULT_TWO_TOWER, type TwoTowerShape } from "./two-tower-shape.ts";
