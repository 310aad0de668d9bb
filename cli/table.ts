/** Plain-text tables for the operators' commands: aligned columns, the last one cut to fit one terminal line. */

/** Width assumed when the output is not a terminal. */
export const DEFAULT_COLUMNS = 120;
/** The last column keeps at least this many characters, even on a narrow terminal. */
const MIN_LAST_COLUMN = 20;
const GAP = '  ';

/**
 * Lines of a table: the header, then one line per row. Every column but the last is as wide as its widest cell; the
 * last takes what is left of `width` and its cells are cut with `…` when longer.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], width: number = DEFAULT_COLUMNS): string[] {
  const last = headers.length - 1;
  const widths = headers.map((header, c) => Math.max(header.length, ...rows.map((row) => (row[c] ?? '').length)));
  const fixed = widths.slice(0, last).reduce((sum, w) => sum + w + GAP.length, 0);
  const lastWidth = Math.max(MIN_LAST_COLUMN, width - fixed);
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === last ? truncate(cell, lastWidth) : cell.padEnd(widths[c]!)))
      .join(GAP)
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** `text` on one line, at most `max` characters, ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/** `sha256:` and the first 12 hex digits: enough to tell digests apart in a table. */
export function shortDigest(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(0, 'sha256:'.length + 12) : digest;
}

/** An ISO timestamp to the second, in UTC: `2026-06-01T12:00:00Z`. */
export function toSecond(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19)}Z`;
}
