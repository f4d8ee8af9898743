/**
 * Returns the names in `known` that `name` is most likely a misspelling of. These are the
 * names at the smallest edit distance, ignoring letter case, when that distance is at most
 * 1 for names of up to 4 characters and at most 2 for longer ones. The result keeps the
 * order of `known` and is empty when no name is that close.
 */
export function similarNames(name: string, known: Iterable<string>): string[] {
  const lowered = name.toLowerCase();
  const limit = name.length <= 4 ? 1 : 2;
  let best = limit;
  let matches: string[] = [];
  for (const candidate of known) {
    if (candidate === name) {
      continue;
    }
    const distance = editDistance(lowered, candidate.toLowerCase());
    if (distance < best || (distance === best && matches.length === 0)) {
      best = distance;
      matches = [candidate];
    } else if (distance === best) {
      matches.push(candidate);
    }
  }
  return matches;
}

/**
 * Returns the one name in `known` that `name` is most likely a misspelling of, as
 * {@link similarNames} finds them, or undefined when none is that close or several are.
 */
export function uniqueSimilarName(name: string, known: Iterable<string>): string | undefined {
  const similar = similarNames(name, known);
  return similar.length === 1 ? similar[0] : undefined;
}

/** Formats names as `"a"`, `"a" or "b"`, or `"a", "b" or "c"`, each wrapped by `mark`. */
export function alternatives(names: readonly string[], mark: (name: string) => string): string {
  const marked = names.map(mark);
  if (marked.length <= 1) {
    return marked.join('');
  }
  return `${marked.slice(0, -1).join(', ')} or ${marked[marked.length - 1]}`;
}

/**
 * Returns the optimal string alignment distance: the fewest insertions, deletions,
 * substitutions and swaps of two adjacent characters that turn `a` into `b`.
 */
function editDistance(a: string, b: string): number {
  // rows[i][j] is the distance between the first i characters of a and the first j of b.
  const rows = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 0; i <= a.length; i += 1) (rows[i] as number[])[0] = i;
  for (let j = 0; j <= b.length; j += 1) (rows[0] as number[])[j] = j;
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, at(i - 2, j - 2) + 1);
      }
      (rows[i] as number[])[j] = distance;
    }
  }
  return at(a.length, b.length);
}
