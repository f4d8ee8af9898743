import { type Document, isAlias, isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { SourceLocation } from '../router/policy-errors.js';
import { referenceProblems, syntaxProblems } from '../router/policy-yaml-errors.js';
import { keyText, locationAt, rangeStart, unescapeSegment } from '../router/yaml-nodes.js';
import { FILE_FIELD, TenantConfigError } from './errors.js';

/** Map keys and sequence indexes from the document root to a value, such as `['tenants', 2]`. */
export type FieldPath = readonly (string | number)[];

/** A config file read from YAML: its plain value and the syntax tree that locates its fields. */
export interface ConfigSource {
  readonly file: string;
  /** The document as plain data, with aliases resolved. */
  readonly value: unknown;
  readonly document: Document.Parsed;
  readonly lines: LineCounter;
}

/**
 * Parses YAML text into a {@link ConfigSource}. YAML warnings go to `process.emitWarning`,
 * as `yaml.parse` sends them. No message quotes the text of a line, which may contain a
 * plaintext key.
 * @throws TenantConfigError listing each YAML syntax error and each alias that names no
 * anchor above it, at its line and column.
 */
export function parseConfigSource(text: string, file: string): ConfigSource {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  for (const warning of document.warnings) {
    process.emitWarning(warning);
  }
  const problems =
    document.errors.length > 0
      ? syntaxProblems(document, lines, 'a config file')
      : referenceProblems(document, text, lines);
  if (problems.length > 0) {
    const errors = problems.map(
      (problem) =>
        new TenantConfigError(file, fieldOfPointer(problem.path), problem.message, {
          location: problem.location,
        }),
    );
    throw TenantConfigError.combine(file, errors);
  }
  try {
    return { file, value: document.toJS(), document, lines };
  } catch (error) {
    // The error known to remain after the checks above is too many aliases, a count over the
    // whole file with no one node to point at.
    const message = `invalid YAML: ${error instanceof Error ? error.message : String(error)}`;
    throw new TenantConfigError(file, FILE_FIELD, message, { location: { line: 1, column: 1 } });
  }
}

/** Formats a path as the tenants loader names fields, such as `tenants[2].maxInFlight`. */
export function fieldName(path: FieldPath): string {
  if (path.length === 0) return '(root)';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      return index === 0 ? segment : `.${segment}`;
    })
    .join('');
}

/** Converts a JSON Pointer, such as `/tenants/0/tier`, to a field name, or FILE_FIELD for ''. */
function fieldOfPointer(pointer: string): string {
  if (pointer === '') return FILE_FIELD;
  const segments = pointer
    .slice(1)
    .split('/')
    .map(unescapeSegment)
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  return fieldName(segments);
}

/**
 * Returns the line and column of the value at `path`: of its key in a map, or of the item in
 * a sequence. A path that leads nowhere, such as a missing field, stops at the nearest value
 * that exists, so a missing field points at its entry. Aliases are followed to their anchor.
 */
export function locateField(source: ConfigSource, path: FieldPath): SourceLocation {
  let node: unknown = source.document.contents;
  let offset = rangeStart(node) ?? 0;
  for (const segment of path) {
    const target = isAlias(node) ? node.resolve(source.document) : node;
    if (isMap(target) && typeof segment === 'string') {
      const pair = target.items.find((item) => keyText(item.key) === segment);
      if (pair === undefined) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(target) && typeof segment === 'number') {
      const item = target.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return locationAt(source.lines, offset);
}
