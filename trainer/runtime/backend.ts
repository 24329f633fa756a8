import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

/**
 * Picks the tfjs backend at run time, fastest first. The native packages are optional: they
 * download libtensorflow when installed, which fails offline and on unsupported platforms, so
 * they are never dependencies, and a trainer without them still runs on wasm or plain JS.
 */
export const BACKEND_PREFERENCE = ["node-gpu", "node", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_PREFERENCE)[number];

export interface SelectedBackend {
  choice: BackendChoice;
  /** What tfjs reports it runs on (`tf.getBackend()`): "tensorflow", "wasm" or "cpu". */
  name: string;
  /** For logs and the policy header: the name, plus the package when the name hides it. */
  label: string;
}

export class BackendUnavailableError extends Error {
  override readonly name = "BackendUnavailableError";
  readonly choice: BackendChoice;
  readonly reason: string;
  constructor(choice: BackendChoice, reason: string) {
    super(`backend ${choice} is unavailable: ${reason}`);
    this.choice = choice;
    this.reason = reason;
  }
}

export interface BackendSelectionOptions {
  /** Use exactly this backend (`--backend`), failing if it cannot start. */
  force?: BackendChoice;
  /** Where the fallback notice goes; stderr by default. */
  warn?: (line: string) => void;
  /** How optional packages are imported; replaceable so that tests can simulate a broken install. */
  importModule?: (specifier: string) => Promise<unknown>;
}

export function parseBackendChoice(text: string): BackendChoice {
  const choice = BACKEND_PREFERENCE.find((c) => c === text);
  if (!choice) throw new RangeError(`unknown backend "${text}", expected one of ${BACKEND_PREFERENCE.join(", ")}`);
  return choice;
}

/**
 * Starts the forced backend, or the first of {@link BACKEND_PREFERENCE} that starts. Skipped
 * backends are reported on one line through `warn`; only a forced backend that fails is an error.
 */
export async function selectBackend(options: BackendSelectionOptions = {}): Promise<SelectedBackend> {
  const importModule = options.importModule ?? ((specifier: string) => import(specifier));
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));

  if (options.force) {
    const failure = await tryStart(options.force, importModule);
    if (failure) throw new BackendUnavailableError(options.force, failure);
    return selected(options.force);
  }

  const skipped: string[] = [];
  for (const choice of BACKEND_PREFERENCE) {
    const failure = await tryStart(choice, importModule);
    if (failure) {
      skipped.push(`${choice} (${failure})`);
      continue;
    }
    if (skipped.length > 0) warn(`tfjs backend: using ${choice}; skipped ${skipped.join(", ")}`);
    return selected(choice);
  }
  // Unreachable in practice: the cpu backend ships inside @tensorflow/tfjs.
  throw new BackendUnavailableError("cpu", skipped.join(", "));
}

const NATIVE_PACKAGES: Partial<Record<BackendChoice, string>> = {
  "node-gpu": "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
};

/** The tfjs registry name each choice starts. */
const REGISTRY_NAMES: Record<BackendChoice, string> = {
  "node-gpu": "tensorflow",
  node: "tensorflow",
  wasm: "wasm",
  cpu: "cpu",
};

/** Starts one backend; returns why it could not, or null once it is the active backend. */
async function tryStart(
  choice: BackendChoice,
  importModule: (specifier: string) => Promise<unknown>,
): Promise<string | null> {
  try {
    const nativePackage = NATIVE_PACKAGES[choice];
    if (nativePackage) {
      const failure = await importOptional(nativePackage, importModule);
      if (failure) return failure;
    }
    if (choice === "wasm") await prepareWasm();
    if (!(await tf.setBackend(REGISTRY_NAMES[choice]))) return "failed to initialise";
    await tf.ready();
    return null;
  } catch (error) {
    return firstLine(error);
  }
}

async function importOptional(
  specifier: string,
  importModule: (specifier: string) => Promise<unknown>,
): Promise<string | null> {
  try {
    await importModule(specifier);
    return null;
  } catch (error) {
    const notInstalled =
      (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
      String((error as Error).message).includes(specifier);
    return notInstalled ? "not installed" : firstLine(error);
  }
}

/**
 * Registers the wasm backend and points it at the .wasm binaries inside its own package, so that
 * nothing is fetched from a CDN.
 */
async function prepareWasm(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
  wasm.setWasmPaths(`${path.dirname(entry)}${path.sep}`);
}

function selected(choice: BackendChoice): SelectedBackend {
  const name = tf.getBackend();
  return { choice, name, label: name === choice ? name : `${name} (${choice})` };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0]!.trim();
}
