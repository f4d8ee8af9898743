/**
 * Maximum nesting of arrays and objects in a request body. A valid task body needs 3
 * levels: the body object, its `messages` array and each message object.
 */
export const MAX_JSON_DEPTH = 32;

/** Location of a value that nests arrays and objects deeper than a limit. */
export interface TooDeepValue {
  /** Top-level key whose value nests too deep; undefined when the root is an array. */
  field: string | undefined;
}

/**
 * Returns where `root` nests arrays and objects more than `maxDepth` levels deep, counting
 * `root` itself as level 1, or undefined when it does not. The walk keeps its own stack,
 * so any depth is safe, and it stops at the first value past the limit.
 */
export function findTooDeep(root: unknown, maxDepth: number): TooDeepValue | undefined {
  const stack: { value: unknown; depth: number; field: string | undefined }[] = [
    { value: root, depth: 1, field: undefined },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, depth } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > maxDepth) return { field: item.field };
    const topLevel = depth === 1 && !Array.isArray(value);
    for (const [key, child] of Object.entries(value)) {
      stack.push({ value: child, depth: depth + 1, field: topLevel ? key : item.field });
    }
  }
  return undefined;
}
