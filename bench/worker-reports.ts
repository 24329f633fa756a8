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

export interface RequestCpuReport {
  n: number;
  /** The n requests, answered (their log rows handed to the shipper; full batches already sending). */
  handledMs: number;
  /** The same, and every waitUntil of theirs settled: the last batch of rows sent too. */
  withSendsMs: number;
  /** Answers other than 200: any means the figure is not of the decide path. */
  failures: number;
}
