import {
  type Document,
  isAlias,
  isMap,
  isSeq,
  LineCounter,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import { type PolicyProblem, PolicyValidationError, type SourceLocation } from './policy-errors.js';
import { referenceProblems, syntaxProblems } from './policy-yaml-errors.js';
import {
  escapeSegment,
  isMergeKey,
  keyText,
  locationAt,
  rangeStart,
  unescapeSegment,
} from './yaml-nodes.js';

/** A policy read from YAML: its plain value and the syntax tree that locates problems in it. */
export interface PolicySource {
  /** The document as plain data, with aliases and merge keys resolved. */
  readonly value: unknown;
  readonly document: Document.Parsed;
  readonly lines: LineCounter;
}

/** Source offset and JSON Pointer of a node written in the document. */
interface Definition {
  pointer: string;
  /** Offset of the node's key in a map, or of the node itself in a sequence or at the root. */
  offset: number;
}

/** A YAML node that a JSON Pointer leads to, and the last alias followed on the way. */
interface Resolved {
  node: unknown;
  anchor: string | undefined;
  /** Offset of the merge key (`<<`) that brought `anchor`'s value in, when no plain alias did. */
  mergeKey?: number;
  /** False when a segment of the pointer names nothing, so `node` is an ancestor of the target. */
  complete: boolean;
}

interface Located {
  problem: PolicyProblem;
  resolved: Resolved | undefined;
}

/**
 * Location of a problem with the file as a whole, such as an empty file: its first line, so
 * that every problem of a YAML policy prints as `FILE:LINE:COL`.
 */
const FILE_START: SourceLocation = { line: 1, column: 1 };

/**
 * Parses policy YAML with merge keys (`<<`) on. YAML warnings go to `process.emitWarning`,
 * as `yaml.parse` sends them.
 * @throws PolicyValidationError listing each YAML syntax error, each alias that names no
 * anchor above it and each merge key whose value is not a map, at its line.
 */
export function parsePolicySource(text: string, source: string): PolicySource {
  const lines = new LineCounter();
  const document = parseDocument(text, { merge: true, lineCounter: lines, prettyErrors: false });
  for (const warning of document.warnings) {
    process.emitWarning(warning);
  }
  const problems =
    document.errors.length > 0
      ? syntaxProblems(document, lines)
      : referenceProblems(document, text, lines);
  if (problems.length > 0) {
    throw new PolicyValidationError(source, problems);
  }
  try {
    return { value: document.toJS(), document, lines };
  } catch (error) {
    // The error known to remain after the checks above is too many aliases, a count over the
    // whole file with no one node to point at.
    const message = `invalid YAML: ${error instanceof Error ? error.message : String(error)}`;
    throw new PolicyValidationError(source, [{ path: '', message, location: FILE_START }]);
  }
}

/**
 * Adds the YAML location to each problem. Problems with the same message on one YAML node,
 * which several routes reach through an alias or a merge key, become one problem at the
 * node's own path that names the anchor and the routes.
 */
export function locateProblems(
  problems: readonly PolicyProblem[],
  source: PolicySource,
): PolicyProblem[] {
  const definitions = collectDefinitions(source.document);
  const groups: Located[][] = [];
  const byNode = new Map<unknown, Map<string, Located[]>>();
  for (const problem of problems) {
    const resolved = resolvePointer(source.document, problem.path);
    const located = { problem, resolved };
    if (resolved === undefined || !resolved.complete) {
      groups.push([located]);
      continue;
    }
    const byMessage = byNode.get(resolved.node) ?? new Map<string, Located[]>();
    byNode.set(resolved.node, byMessage);
    const group = byMessage.get(problem.message);
    if (group === undefined) {
      const created = [located];
      byMessage.set(problem.message, created);
      groups.push(created);
    } else {
      group.push(located);
    }
  }
  return groups.map((group) => mergeGroup(group, definitions, source.lines));
}

function mergeGroup(
  group: readonly Located[],
  definitions: ReadonlyMap<unknown, Definition>,
  lines: LineCounter,
): PolicyProblem {
  const first = group[0] as Located;
  const resolved = first.resolved;
  if (resolved === undefined) {
    // Only an empty document has no node to resolve a pointer in.
    return { ...first.problem, location: FILE_START };
  }
  const definition = definitions.get(resolved.node);
  const offset = definition?.offset ?? rangeStart(resolved.node);
  const location = offset === undefined ? undefined : locationAt(lines, offset);
  const anchor = group.find((member) => member.resolved?.anchor !== undefined)?.resolved?.anchor;
  if (group.length === 1 && (anchor === undefined || !resolved.complete)) {
    return { ...first.problem, location };
  }
  const users = usersOf(group.map((member) => member.problem.path));
  const shared =
    anchor === undefined
      ? `used by ${users}`
      : `anchor &${anchor}, ${mergedText(group, lines) ?? 'used by'} ${users}`;
  return {
    path: definition?.pointer ?? first.problem.path,
    message: `${first.problem.message} (${shared})`,
    location,
  };
}

/**
 * Returns `merged by the << on line 59 into` when every member of the group takes the value
 * through a merge key, which may be the line to fix, or undefined when a plain alias brings
 * it into any of them.
 */
function mergedText(group: readonly Located[], lines: LineCounter): string | undefined {
  const offsets = group.map((member) => member.resolved?.mergeKey);
  if (offsets.some((offset) => offset === undefined)) {
    return undefined;
  }
  const numbers = [...new Set(offsets.map((offset) => locationAt(lines, offset ?? 0).line))];
  numbers.sort((a, b) => a - b);
  const where = numbers.length === 1 ? `line ${numbers[0]}` : `lines ${numbers.join(', ')}`;
  return `merged by the << on ${where} into`;
}

/** Names the routes the paths point into, such as `routes chat, chat-fast`, or else the paths. */
function usersOf(paths: readonly string[]): string {
  const names = paths.map((path) => {
    const match = /^\/routes\/([^/]+)/.exec(path);
    return match?.[1] === undefined ? path || '/' : unescapeSegment(match[1]);
  });
  const unique = [...new Set(names)];
  const routes = paths.every((path) => path.startsWith('/routes/'));
  if (!routes) {
    return unique.join(', ');
  }
  return `${unique.length === 1 ? 'route' : 'routes'} ${unique.join(', ')}`;
}

/**
 * Maps each node written in the document, aliases aside, to its JSON Pointer and the offset
 * of its key. Nodes written inside a merge key's value are left out, because they have no
 * pointer of their own.
 */
function collectDefinitions(document: Document.Parsed): Map<unknown, Definition> {
  const definitions = new Map<unknown, Definition>();
  const visit = (node: unknown, pointer: string, offset: number | undefined): void => {
    if (node === null || isAlias(node)) {
      return;
    }
    if (offset !== undefined) {
      definitions.set(node, { pointer, offset });
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = keyText(pair.key);
        if (key !== undefined && !isMergeKey(pair.key)) {
          visit(pair.value, `${pointer}/${escapeSegment(key)}`, rangeStart(pair.key));
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        visit(item, `${pointer}/${index}`, rangeStart(item));
      });
    }
  };
  visit(document.contents, '', rangeStart(document.contents));
  return definitions;
}

/** Follows a JSON Pointer through the YAML tree, through aliases and merge keys as `toJS` does. */
function resolvePointer(document: Document.Parsed, pointer: string): Resolved | undefined {
  if (document.contents === null) {
    return undefined;
  }
  let current: Resolved = { node: document.contents, anchor: undefined, complete: true };
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapeSegment);
  for (const segment of segments) {
    const parent = dereference(document, current);
    const child = childOf(document, parent.node, segment);
    if (child === undefined) {
      return { ...parent, complete: false };
    }
    current =
      child.anchor === undefined
        ? { ...parent, node: child.node, complete: true }
        : { node: child.node, anchor: child.anchor, mergeKey: child.mergeKey, complete: true };
  }
  return dereference(document, current);
}

function dereference(document: Document.Parsed, resolved: Resolved): Resolved {
  if (!isAlias(resolved.node)) {
    return resolved;
  }
  const target = resolved.node.resolve(document);
  return { node: target, anchor: resolved.node.source, complete: target !== undefined };
}

/** A map entry or sequence item, and the anchor and merge key it was reached through. */
interface Child {
  node: unknown;
  anchor?: string;
  mergeKey?: number;
}

function childOf(document: Document.Parsed, node: unknown, segment: string): Child | undefined {
  if (isMap(node)) {
    return mapEntry(document, node, segment);
  }
  if (isSeq(node) && /^\d+$/.test(segment)) {
    const item = node.items[Number(segment)];
    return item === undefined ? undefined : { node: item };
  }
  return undefined;
}

/**
 * Returns the value of `key` in a map. A key written in the map wins over merged ones, and
 * an earlier merge source wins over a later one, as the YAML merge key type defines.
 */
function mapEntry(document: Document.Parsed, map: YAMLMap, key: string): Child | undefined {
  const merges: { key: unknown; value: unknown }[] = [];
  for (const pair of map.items) {
    if (isMergeKey(pair.key)) {
      merges.push(pair);
    } else if (keyText(pair.key) === key) {
      return { node: pair.value };
    }
  }
  for (const merge of merges) {
    const value = dereference(document, { node: merge.value, anchor: undefined, complete: true });
    const sources = isSeq(value.node) ? value.node.items : [value.node];
    for (const item of sources) {
      const source = dereference(document, { node: item, anchor: value.anchor, complete: true });
      if (!isMap(source.node)) {
        continue;
      }
      const entry = mapEntry(document, source.node, key);
      if (entry?.anchor !== undefined) {
        return entry;
      }
      if (entry !== undefined) {
        return { node: entry.node, anchor: source.anchor, mergeKey: rangeStart(merge.key) };
      }
    }
  }
  return undefined;
}
