// Parquet files through hyparquet-writer (pure JavaScript, no native code, one dependency: its
// reader, hyparquet), loaded on first use, since only exports need it.
import { pathToFileURL } from 'node:url';
import { CrossmodalError } from '../../errors';

/** A column as hyparquet-writer takes it (the subset used here). */
export interface ParquetColumn {
  name: string;
  data: unknown[];
  type: 'STRING' | 'JSON' | 'INT32' | 'INT64' | 'TIMESTAMP';
  nullable?: boolean;
}

interface HyparquetWriter {
  parquetWriteFile(options: { filename: string; columnData: ParquetColumn[]; rowGroupSize?: number }): void;
}

// An ES module: Node ≥ 20.19 and ≥ 22.12 require() it directly (also inside test runners' module
// sandboxes); older Nodes refuse (ERR_REQUIRE_ESM) and get a real import(), kept out of
// TypeScript's reach in a Function, since for CommonJS output TypeScript turns import() into require().
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let loaded: Promise<HyparquetWriter> | undefined;

function loadWriter(): Promise<HyparquetWriter> {
  loaded ??= (async () => {
    try {
      // Resolved the CommonJS way from this package (node_modules, NODE_PATH).
      const file = require.resolve('hyparquet-writer');
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(file) as HyparquetWriter;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ERR_REQUIRE_ESM') throw error;
        return (await importModule(pathToFileURL(file).href)) as HyparquetWriter;
      }
    } catch (error) {
      loaded = undefined;
      throw new CrossmodalError(
        'ERR_RUNTIME_UNAVAILABLE',
        `writing Parquet needs the \`hyparquet-writer\` package: npm install hyparquet-writer (${(error as Error).message})`,
        { cause: error },
      );
    }
  })();
  return loaded;
}

/** Writes `columns` (all of one length) to `file` as one Parquet file, Snappy-compressed. */
export async function writeParquet(file: string, columns: ParquetColumn[]): Promise<void> {
  const writer = await loadWriter();
  try {
    writer.parquetWriteFile({ filename: file, columnData: columns, rowGroupSize: 100_000 });
  } catch (error) {
    throw new CrossmodalError('ERR_IO', `cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}
