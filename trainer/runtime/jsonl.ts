import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { createInterface } from "node:readline";

export interface NumberedLine {
  /** 1-based, as editors and error messages count. */
  number: number;
  text: string;
}

/** The lines of a text file, streamed: a log export can be larger than memory. */
export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let number = 0;
  for await (const text of lines) yield { number: ++number, text };
}

/** Writes JSONL to `path`, through a temporary sibling renamed at the end: a reader never sees half a file. */
export interface JsonlWriter {
  write(values: readonly unknown[]): Promise<void>;
  /** Publishes the file under its final name. */
  close(): Promise<void>;
  /** Removes the partial file (after a failure). */
  abort(): Promise<void>;
}

async function openJsonlWriter(path: string): Promise<JsonlWriter> {
  const partial = `${path}.partial`;
  const handle = await open(partial, "w");
  return {
    async write(values) {
      if (values.length === 0) return;
      await handle.write(values.map((v) => `${JSON.stringify(v)}\n`).join(""));
    },
    async close() {
      await handle.close();
      await rename(partial, path);
    },
    async abort() {
      await handle.close().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

/** Runs `produce` against a writer for `path`; the file appears only if it succeeds. */
export async function writeJsonl<T>(path: string, produce: (writer: JsonlWriter) => Promise<T>): Promise<T> {
  const writer = await openJsonlWriter(path);
  try {
    const result = await produce(writer);
    await writer.close();
    return result;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
