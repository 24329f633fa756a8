import { readLines } from "../runtime/jsonl.ts";

export interface CsvRecord {
  /** 1-based line number in the file, for error messages. */
  line: number;
  /** Field values by header name (an unnamed column is ""). */
  values: Readonly<Record<string, string>>;
}

/**
 * Reads a simple CSV file: a header line, then one record per line, fields separated by commas.
 * Quoting is refused rather than half-supported: the files this reads (the Open Bandit Dataset)
 * quote nothing, and a quoted comma split the wrong way would shift every later column silently.
 */
export async function* readCsv(path: string): AsyncGenerator<CsvRecord> {
  let header: string[] | undefined;
  for await (const { number, text } of readLines(path)) {
    if (text === "") continue;
    const fields = splitCsvLine(text, `${path}:${number}`);
    if (!header) {
      header = fields;
      continue;
    }
    if (fields.length !== header.length) {
      throw new Error(`${path}:${number}: ${fields.length} fields where the header has ${header.length}`);
    }
    const values: Record<string, string> = {};
    header.forEach((name, i) => (values[name] = fields[i]!));
    yield { line: number, values };
  }
}

function splitCsvLine(text: string, where: string): string[] {
  if (text.includes('"')) throw new Error(`${where}: quoted CSV fields are not supported`);
  return text.split(",");
}
