/** What the bench Workers answer: read by the Node side of the bench, written inside workerd. */

export interface ColdLoadReport {
  k: number;
  elapsedMs: number;
  pointerMs: number;
  fetchVerifyDecodeMs: number;
  version: string;
}

export interface CpuReport {
  n: number;
  elapsedMs: number;
  checksum: number;
}
