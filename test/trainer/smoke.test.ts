import { expect, test } from "vitest";
test("runs in node", () => { expect(process.versions.node.startsWith("22")).toBe(true); });
