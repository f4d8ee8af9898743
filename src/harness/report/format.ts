/** Number formatting shared by the Markdown summary and the runbook, so both print the same digits. */

/**
 * Formats a rate, such as a success rate, as a percentage rounded down to 0.1, so a
 * rate below 1 never shows 100.0%.
 */
export function percent(rate: number): string {
  // The small addend keeps a product such as 0.57 * 1000 = 569.999... at 57.0%.
  return `${(Math.floor(rate * 1000 + 1e-9) / 10).toFixed(1)}%`;
}

export function seconds(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)} s`;
}

/** Four significant digits, which round a cost per task by at most 0.05% of its value. */
const USD_FORMAT = new Intl.NumberFormat('en-US', {
  minimumSignificantDigits: 4,
  maximumSignificantDigits: 4,
  useGrouping: false,
});

/**
 * Formats US dollars with four significant digits, such as `$0.003608`, so costs per task
 * of different topologies stay apart; null gives `n/a`.
 */
export function usd(value: number | null): string {
  return value === null ? 'n/a' : `$${USD_FORMAT.format(value)}`;
}

/**
 * Formats a USD amount that may be negative, with the sign before the dollar sign, such as
 * `-$0.004300`.
 */
export function signedUsd(value: number): string {
  return value < 0 ? `-${usd(-value)}` : usd(value);
}

/**
 * Formats a USD amount with its sign before the dollar sign, `+` included, such as `+$0.1000`
 * or `-$0.004300`. Zero has no sign.
 */
export function explicitlySignedUsd(value: number): string {
  return value > 0 ? `+${usd(value)}` : signedUsd(value);
}

export function count(value: number): string {
  return String(Math.round(value));
}

/** Renders a Markdown table; cells have `|` escaped so a value cannot break the row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escapeCell = (cell: string): string => cell.replaceAll('|', '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
