/** The error every Parquet reader and writer of src/engine/parquet throws for a file: it names the file. */
export class ParquetFileError extends Error {
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown) {
    super(`${file}: ${message}`, { cause });
    this.file = file;
  }
}

/**
 * This file (or part of it) is outside what this reader handles: use the full reader.
 * Thrown by the flat reader (flatReader.ts and the thriftCompact, flatFooter and rleHybrid
 * modules it is built from) and caught by barsParquet.ts, which then reads the file with
 * parquet-wasm. It lives here, with no imports, so that every piece can throw it without a cycle.
 */
export class FlatReadUnsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlatReadUnsupported';
  }
}

/** Throws FlatReadUnsupported(why): the flat reader's way out of anything it does not handle. */
export const unsupported = (why: string): never => {
  throw new FlatReadUnsupported(why);
};
