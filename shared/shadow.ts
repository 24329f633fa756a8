import { fromBase64Url, toBase64Url } from "./base64url.ts";

/**
 * What a shadow policy would have done at a logged decision: its version, and its probability of
 * every catalogue action (0 where the action was not eligible) under the served decision's mask.
 * The `shadow` column holds `<version>:<base64url of the float64s, little-endian>`: exact (the same
 * doubles the edge computed, so off-policy estimates use the true probabilities) and compact
 * (75 characters for 7 actions).
 */
export interface ShadowProbabilities {
  version: string;
  probabilities: Float64Array;
}

export function encodeShadow(shadow: ShadowProbabilities): string {
  const bytes = new Uint8Array(shadow.probabilities.length * 8);
  const view = new DataView(bytes.buffer);
  shadow.probabilities.forEach((p, i) => view.setFloat64(i * 8, p, true));
  return `${shadow.version}:${toBase64Url(bytes)}`;
}

/** The column's value taken apart, or null when it does not hold `actionCount` probabilities. */
export function decodeShadow(text: string, actionCount: number): ShadowProbabilities | null {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return null;
  const bytes = fromBase64Url(text.slice(colon + 1));
  if (bytes === null || bytes.length !== actionCount * 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const probabilities = new Float64Array(actionCount);
  for (let i = 0; i < actionCount; i++) probabilities[i] = view.getFloat64(i * 8, true);
  if (!probabilities.every((p) => p >= 0 && p <= 1)) return null;
  return { version: text.slice(0, colon), probabilities };
}
