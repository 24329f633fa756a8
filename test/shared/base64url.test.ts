import { describe, expect, test } from "vitest";
import { fromBase64Url, toBase64Url } from "../../shared/base64url.ts";

/** RFC 4648 through the platform's btoa: the reference the table codec must agree with. */
function reference(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

describe("base64url", () => {
  test("encodes as RFC 4648 does, and decodes back, at every length up to 100 bytes", () => {
    for (let length = 0; length <= 100; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const text = toBase64Url(bytes);
      expect(text).toBe(reference(bytes));
      expect(fromBase64Url(text)).toEqual(bytes);
    }
    expect(toBase64Url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
  });

  test("refuses other spellings of the same bytes: unused low bits set in the last character", () => {
    expect(fromBase64Url("AA")).toEqual(new Uint8Array([0]));
    for (const other of ["AB", "AC", "AP"]) expect(fromBase64Url(other)).toBeNull();
    expect(fromBase64Url("AAA")).toEqual(new Uint8Array([0, 0]));
    for (const other of ["AAB", "AAD"]) expect(fromBase64Url(other)).toBeNull();
  });

  test("refuses characters outside the alphabet, padding, and impossible lengths", () => {
    for (const bad of ["A", "AAAAA", "AA==", "A+/A", "AA A", "AAé", "AA\u0000A"]) {
      expect(fromBase64Url(bad), bad).toBeNull();
    }
    expect(fromBase64Url("")).toEqual(new Uint8Array(0));
  });
});
