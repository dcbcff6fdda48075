// One error type for every malformed input the readers meet. The message always names the file
// (or the caller's label for in-memory bytes), where the problem is (byte offset or line/column)
// and what was expected, so a user can open the file at that spot and see what went wrong.

export type Where = { byte: number } | { line: number; column?: number } | null;

export class FormatError extends Error {
  readonly source: string;
  readonly where: Where;
  constructor(source: string, where: Where, message: string) {
    super(`${source}${describeWhere(where)}: ${message}`);
    this.name = 'FormatError';
    this.source = source;
    this.where = where;
  }
}

function describeWhere(w: Where): string {
  if (w === null) return '';
  if ('byte' in w) return `: byte ${w.byte}`;
  return w.column === undefined ? `: line ${w.line}` : `: line ${w.line}, column ${w.column}`;
}

/** Shortens a value for an error message, so a binary blob never floods the terminal. */
export function preview(s: string, max = 40): string {
  const clean = s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `'${clean.slice(0, max)}…'` : `'${clean}'`;
}
