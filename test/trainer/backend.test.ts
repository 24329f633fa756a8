import * as tf from "@tensorflow/tfjs";
import { describe, expect, test } from "vitest";
import { BackendUnavailableError, parseBackendChoice, selectBackend } from "../../trainer/runtime/backend.ts";

// Neither native package is installed here (their install downloads libtensorflow), so the chooser
// must fall back to wasm, which ships in node_modules with its binaries.
describe("selectBackend", () => {
  test("falls back past the missing native packages to wasm, with one warning line", async () => {
    const warnings: string[] = [];
    const backend = await selectBackend({ warn: (line) => warnings.push(line) });
    expect(backend).toEqual({ choice: "wasm", name: "wasm", label: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBe("tfjs backend: using wasm; skipped node-gpu (not installed), node (not installed)");
    expect(tf.tensor1d([1, 2, 3]).sum().dataSync()[0]).toBe(6);
  });

  test("a native package that is installed but broken is skipped with its error, not thrown", async () => {
    const warnings: string[] = [];
    const backend = await selectBackend({
      warn: (line) => warnings.push(line),
      importModule: () => Promise.reject(new Error("libtensorflow.so.2: cannot open shared object file\nstack...")),
    });
    expect(backend.choice).toBe("wasm");
    expect(warnings).toEqual([
      "tfjs backend: using wasm; skipped node-gpu (libtensorflow.so.2: cannot open shared object file), node (libtensorflow.so.2: cannot open shared object file)",
    ]);
  });

  test("a native package that is missing reads as not installed", async () => {
    const missing = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from x"), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    const missingNode = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node' imported from x"), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    const warnings: string[] = [];
    await selectBackend({
      warn: (line) => warnings.push(line),
      importModule: (specifier) => Promise.reject(specifier.endsWith("gpu") ? missing : missingNode),
    });
    expect(warnings).toEqual(["tfjs backend: using wasm; skipped node-gpu (not installed), node (not installed)"]);
  });

  test("a forced backend is used without trying the others", async () => {
    const warnings: string[] = [];
    const backend = await selectBackend({ force: "cpu", warn: (line) => warnings.push(line) });
    expect(backend).toEqual({ choice: "cpu", name: "cpu", label: "cpu" });
    expect(tf.getBackend()).toBe("cpu");
    expect(warnings).toEqual([]);
  });

  test("a forced backend that cannot start is an error naming it", async () => {
    await expect(selectBackend({ force: "node" })).rejects.toThrow(BackendUnavailableError);
    await expect(selectBackend({ force: "node-gpu" })).rejects.toThrow(/node-gpu is unavailable/);
  });
});

test("parseBackendChoice accepts the flag values and names them on a typo", () => {
  expect(parseBackendChoice("wasm")).toBe("wasm");
  expect(() => parseBackendChoice("gpu")).toThrow(/node-gpu, node, wasm, cpu/);
});
