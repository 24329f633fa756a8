import { expect, test } from "vitest";
import { decodeShadow, encodeShadow } from "../../shared/shadow.ts";

test("shadow probabilities survive the log column exactly, and a malformed column reads as none", () => {
  const probabilities = Float64Array.from([0.1, 0, 0.7 / 3, 0, 0.2, 0.7 - 0.7 / 3, 0]);
  const text = encodeShadow({ version: "v.2-x", probabilities });
  expect(text.length).toBeLessThanOrEqual("v.2-x:".length + 75);
  expect(decodeShadow(text, 7)).toEqual({ version: "v.2-x", probabilities });
  for (const bad of ["", "no-colon", ":AAAA", `v:${"A".repeat(74)}`, text.slice(0, -1)]) {
    expect(decodeShadow(bad, 7), bad).toBeNull();
  }
  expect(decodeShadow(text, 6)).toBeNull();
  expect(decodeShadow(encodeShadow({ version: "v", probabilities: Float64Array.from([2, -1]) }), 2)).toBeNull();
});
