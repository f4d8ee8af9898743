/**
 * Parses the command-line argument `name` as a positive safe integer, or returns `fallback`
 * when `text` is undefined. Throws a RangeError that names the argument and the value.
 */
export function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `${name} must be a positive integer, got ${JSON.stringify(text)}; pass a value such as ${fallback}`,
    );
  }
  return value;
}
