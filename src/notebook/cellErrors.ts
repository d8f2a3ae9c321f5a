/** How a cell fails: a CellError is shown as its message (and detail: a mapped stack), a CellCanceled as "Canceled". */
export class CellError extends Error {
  override name = 'CellError';
  readonly detail: string | undefined;
  constructor(message: string, detail?: string) {
    super(message);
    this.detail = detail;
  }
}

export class CellCanceled extends Error {
  override name = 'CellCanceled';
}
