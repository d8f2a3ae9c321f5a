/** The error every Parquet reader and writer of src/engine/parquet throws for a file: it names the file. */
export class ParquetFileError extends Error {
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown) {
    super(`${file}: ${message}`, { cause });
    this.file = file;
  }
}
