import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { decisionsParquet, outcomesParquet } from "../../../edge/archive/parquet.ts";
import { archivePartKey, partitionByDay, type ArchiveTable } from "../../../shared/archive.ts";
import type { DecisionRow, OutcomeRow } from "../../../shared/schema.ts";

/**
 * Writes log rows into `dir` as the Worker's archiver lays them out, a Parquet part per table and
 * day, each part `copies` times under different names (as a re-run archiver whose flags were lost
 * leaves them).
 */
export async function writeArchiveDir(
  dir: string,
  decisions: readonly DecisionRow[],
  outcomes: readonly OutcomeRow[],
  copies = 1,
): Promise<void> {
  const write = async <T extends { ts: number }>(
    table: ArchiveTable,
    rows: readonly T[],
    encode: (rows: readonly T[]) => ArrayBuffer,
  ) => {
    for (const [day, dayRows] of partitionByDay(rows)) {
      const body = new Uint8Array(encode(dayRows));
      for (let copy = 0; copy < copies; copy++) {
        const file = path.join(dir, archivePartKey(table, day, `${copy}${day}`));
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, body);
      }
    }
  };
  await write("decisions", decisions, decisionsParquet);
  await write("outcomes", outcomes, outcomesParquet);
}
