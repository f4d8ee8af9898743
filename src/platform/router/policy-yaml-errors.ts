import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type LineCounter,
  type YAMLError,
} from 'yaml';
import type { PolicyProblem } from './policy-errors.js';
import { alternatives, similarNames } from './similar-names.js';
import { escapeSegment, isMergeKey, keyText, locationAt, rangeStart } from './yaml-nodes.js';

/**
 * Converts the yaml package's syntax errors of `document` to problems at their lines. After a
 * tab used as indentation, the parser misreads the lines that follow and reports errors there
 * that only the tab causes, so only the errors before the first tab and every tab error are kept.
 * `fileKind` names the file in messages, such as `a config file`.
 */
export function syntaxProblems(
  document: Document.Parsed,
  lines: LineCounter,
  fileKind = 'a policy file',
): PolicyProblem[] {
  const errors = document.errors;
  const duplicates = duplicateKeys(document);
  const tabs = errors.filter((error) => error.code === 'TAB_AS_INDENT');
  const firstTab = tabs.reduce<YAMLError | undefined>(
    (first, error) => (first === undefined || error.pos[0] < first.pos[0] ? error : first),
    undefined,
  );
  const reported =
    firstTab === undefined
      ? errors
      : errors.filter((error) => error.code === 'TAB_AS_INDENT' || error.pos[0] < firstTab.pos[0]);
  const dropped = errors.length - reported.length;
  return reported.map((error) => {
    const duplicate = error.code === 'DUPLICATE_KEY' ? duplicates.get(error.pos[0]) : undefined;
    let message =
      duplicate === undefined
        ? yamlErrorMessage(error, fileKind)
        : duplicateKeyMessage(duplicate, lines);
    if (error === firstTab && dropped > 0) {
      const count = dropped === 1 ? '1 other YAML error' : `${dropped} other YAML errors`;
      const verb = dropped === 1 ? 'is' : 'are';
      message += ` (${count} after it ${verb} left out, because they may follow from the tab)`;
    }
    return {
      path: '',
      message: `invalid YAML: ${message}`,
      location: locationAt(lines, error.pos[0]),
    };
  });
}

/** A map key written a second time in the same map. */
interface DuplicateKey {
  key: string;
  /** JSON Pointer of the map that contains both keys. */
  mapPointer: string;
  /** Source offset of the first key. */
  firstOffset: number;
}

/**
 * Returns each repeated map key by the source offset of its repeat, which is where the yaml
 * package reports DUPLICATE_KEY. The parser keeps both entries in the map, so both are found.
 */
function duplicateKeys(document: Document.Parsed): Map<number, DuplicateKey> {
  const duplicates = new Map<number, DuplicateKey>();
  const visit = (node: unknown, pointer: string): void => {
    if (isSeq(node)) {
      node.items.forEach((item, index) => {
        visit(item, `${pointer}/${index}`);
      });
      return;
    }
    if (!isMap(node)) {
      return;
    }
    const firstOffsets = new Map<string, number>();
    for (const pair of node.items) {
      const key = keyText(pair.key);
      const offset = rangeStart(pair.key);
      if (key === undefined || offset === undefined) {
        continue;
      }
      const firstOffset = firstOffsets.get(key);
      if (firstOffset === undefined) {
        firstOffsets.set(key, offset);
        visit(pair.value, `${pointer}/${escapeSegment(key)}`);
      } else {
        duplicates.set(offset, { key, mapPointer: pointer, firstOffset });
      }
    }
  };
  visit(document.contents, '');
  return duplicates;
}

function duplicateKeyMessage(duplicate: DuplicateKey, lines: LineCounter): string {
  const where = duplicate.mapPointer === '' ? 'at the top level' : `in ${duplicate.mapPointer}`;
  const firstLine = locationAt(lines, duplicate.firstOffset).line;
  return `key "${duplicate.key}" is written twice ${where}, first on line ${firstLine}, and a map key must be unique; remove one of the two, or rename this one`;
}

/** Returns the yaml package's message, with advice in place of advice meant for its API. */
function yamlErrorMessage(error: YAMLError, fileKind: string): string {
  if (error.code === 'MULTIPLE_DOCS') {
    return `a second document starts here, but ${fileKind} holds one; remove this --- line and what follows it`;
  }
  if (error.code === 'TAB_AS_INDENT') {
    return `${error.message}; replace the tab with spaces`;
  }
  return error.message;
}

/** Nodes of a document that refer to other nodes, and the anchors they can refer to. */
interface References {
  anchors: { name: string; offset: number }[];
  aliases: { alias: Alias; pointer: string }[];
  merges: { key: unknown; value: unknown; pointer: string }[];
}

/**
 * Returns a problem for each alias that names no anchor above it and for each merge key
 * (`<<`) whose value is not a map, an alias of one, or a sequence of those. Converting such a
 * document to data raises an error that names no position, so these are found first.
 */
export function referenceProblems(
  document: Document.Parsed,
  text: string,
  lines: LineCounter,
): PolicyProblem[] {
  const references: References = { anchors: [], aliases: [], merges: [] };
  collectReferences(document.contents, '', references);
  const problems: PolicyProblem[] = [];
  for (const { alias, pointer } of references.aliases) {
    if (alias.resolve(document) !== undefined) {
      continue;
    }
    const offset = rangeStart(alias) ?? 0;
    const message = unresolvedAliasMessage(alias.source, offset, references, text, lines);
    problems.push({ path: pointer, message, location: locationAt(lines, offset) });
  }
  for (const merge of references.merges) {
    const received = invalidMergeSource(document, merge.value);
    if (received !== undefined) {
      const message = `invalid YAML: merge key << takes a map, an alias of a map, or a sequence of those, but ${received}; write <<: *name, where &name marks a map`;
      const offset = rangeStart(merge.key) ?? 0;
      problems.push({ path: merge.pointer, message, location: locationAt(lines, offset) });
    }
  }
  return problems;
}

/**
 * Walks the tree in document order. A merge key's value gets the pointer of the map that
 * contains it, because its entries become that map's entries.
 */
function collectReferences(node: unknown, pointer: string, references: References): void {
  if (isAlias(node)) {
    references.aliases.push({ alias: node, pointer });
    return;
  }
  if (!isNode(node)) {
    return;
  }
  if (node.anchor !== undefined) {
    references.anchors.push({ name: node.anchor, offset: rangeStart(node) ?? 0 });
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isMergeKey(pair.key)) {
        references.merges.push({ key: pair.key, value: pair.value, pointer });
        collectReferences(pair.value, pointer, references);
        continue;
      }
      collectReferences(pair.key, pointer, references);
      const key = keyText(pair.key);
      const child = key === undefined ? pointer : `${pointer}/${escapeSegment(key)}`;
      collectReferences(pair.value, child, references);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      collectReferences(item, `${pointer}/${index}`, references);
    });
  }
}

/**
 * Explains an alias with no anchor above it: the anchor comes later in the file, or a
 * similar anchor exists, or which anchors it may name.
 */
function unresolvedAliasMessage(
  name: string,
  offset: number,
  references: References,
  text: string,
  lines: LineCounter,
): string {
  const later = references.anchors.find((anchor) => anchor.name === name && anchor.offset > offset);
  if (later !== undefined) {
    // The node starts after its `&name` property, which may be on an earlier line.
    const anchorOffset = text.lastIndexOf(`&${name}`, later.offset);
    const anchorLine = locationAt(lines, anchorOffset < 0 ? later.offset : anchorOffset).line;
    const aliasLine = locationAt(lines, offset).line;
    return `invalid YAML: alias *${name} comes before its anchor &${name} on line ${anchorLine}, and an alias can only name an anchor above it; move the value marked &${name} above line ${aliasLine}`;
  }
  const above = [
    ...new Set(references.anchors.filter((anchor) => anchor.offset < offset).map((a) => a.name)),
  ];
  if (above.length === 0) {
    return `invalid YAML: alias *${name} names no anchor, and the file defines none above it; mark the value to share with &${name} above this line`;
  }
  const head = `invalid YAML: alias *${name} names no anchor above it`;
  const defined = above.map((anchor) => `&${anchor}`).join(', ');
  const similar = similarNames(name, above);
  if (similar.length > 0) {
    const guess = alternatives(similar, (anchor) => `*${anchor}`);
    return `${head}; did you mean ${guess}? Anchors defined above it: ${defined}`;
  }
  return `${head}; name one of the anchors defined above it (${defined}), or mark the value to share with &${name} above this line`;
}

/**
 * Returns how a merge key's value breaks the merge key type, such as `received 5`, or
 * undefined when it is valid or names an unresolved alias, which is reported on its own.
 */
function invalidMergeSource(document: Document.Parsed, value: unknown): string | undefined {
  const source = isAlias(value) ? value.resolve(document) : value;
  if (source === undefined || isMap(source)) {
    return undefined;
  }
  if (!isSeq(source)) {
    return `received ${describeNode(document, value)}`;
  }
  for (const [index, item] of source.items.entries()) {
    const itemSource = isAlias(item) ? item.resolve(document) : item;
    if (itemSource !== undefined && !isMap(itemSource)) {
      return `item ${index + 1} of its sequence is ${describeNode(document, item)}`;
    }
  }
  return undefined;
}

function describeNode(document: Document.Parsed, node: unknown): string {
  if (isAlias(node)) {
    return `*${node.source}, which is ${describeNode(document, node.resolve(document))}`;
  }
  if (isSeq(node)) {
    return 'a sequence';
  }
  if (isMap(node)) {
    return 'a map';
  }
  if (isScalar(node) && node.value !== null) {
    return JSON.stringify(node.value) ?? String(node.value);
  }
  return 'an empty value';
}
