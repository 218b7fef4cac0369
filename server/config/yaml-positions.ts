// Where a problem is in the YAML text: the source position of a field's node (or of the key to
// add), the dotted field name, duplicate keys (which toJS would silently drop) and key order.
import type { z } from "zod";
import { type Document, type LineCounter, type Node as YamlNode, isAlias, isMap, isScalar, isSeq } from "yaml";
import type { ConfigProblem } from "./problems.js";

type PathSegment = PropertyKey;

export type Position = { line?: number; column?: number };

export function positionOf(lineCounter: LineCounter, offset: number | undefined): Position {
  if (offset === undefined) return {};
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

export function problemsFor(
  issue: z.core.$ZodIssue,
  data: unknown,
  doc: Document,
  file: string,
  at: (offset: number | undefined) => Position,
): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return { file, ...at(offsetOf(doc, path, true)), field: fieldName(path), rule: issue.message, value: valueAt(data, path) };
    });
  }
  // A union of a word and a mapping (server.auth: none | {...}) given a mapping: the mapping's own problems.
  if (issue.code === "invalid_union") {
    const nested = issue.errors.find((branch) => branch.some((inner) => inner.path.length > 0));
    if (nested) return nested.flatMap((inner) => problemsFor({ ...inner, path: [...issue.path, ...inner.path] }, data, doc, file, at));
  }
  // Bad program names point at the name itself, not at the program's body.
  const atKey = issue.code === "invalid_key";
  return [{ file, ...at(offsetOf(doc, issue.path, atKey)), field: fieldName(issue.path), rule: issue.message, value: issue.input }];
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function fieldName(path: readonly PathSegment[]): string {
  let name = "";
  for (const segment of path) {
    if (typeof segment === "number") name += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(String(segment))) name += name === "" ? String(segment) : `.${String(segment)}`;
    else name += `[${JSON.stringify(String(segment))}]`;
  }
  return name;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * Source offset of the node at `path`; when it does not exist (a missing key), the key of the
 * nearest existing parent, which is where the user has to add it.
 */
function offsetOf(doc: Document, path: readonly PathSegment[], atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let fallback = startOf(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isMap(node)) {
      // The last of duplicate keys is the one whose value was validated.
      const pair = node.items.findLast((item) => keyText(item.key) === String(segment));
      if (!pair) return fallback;
      const keyStart = startOf(pair.key) ?? fallback;
      if (atKey && i === path.length - 1) return keyStart;
      node = pair.value;
      fallback = keyStart;
      // An empty value (`db:`) has no text of its own; its key is what the user sees.
      if (node === null || (isScalar(node) && node.value === null)) return fallback;
    } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
      node = node.items[segment];
      fallback = startOf(node) ?? fallback;
    } else {
      return fallback;
    }
    if (isAlias(node)) return startOf(node) ?? fallback;
  }
  return startOf(node) ?? fallback;
}

function startOf(node: unknown): number | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as YamlNode).range;
    return range ? range[0] : undefined;
  }
  return undefined;
}

/** Every key that repeats an earlier key of the same map (toJS keeps only the last one). */
export function duplicateKeyProblems(node: unknown, path: PathSegment[], file: string, at: (offset: number | undefined) => Position): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (isMap(node)) {
    const firstByName = new Map<string, number | undefined>();
    for (const pair of node.items) {
      const name = keyText(pair.key);
      const keyPath = [...path, name];
      if (firstByName.has(name)) {
        const kind = keyPath.length === 2 && keyPath[0] === "programs" ? "duplicate program name" : "duplicate key";
        const rule = `${kind} (first defined on line ${at(firstByName.get(name)).line ?? "?"})`;
        problems.push({ file, ...at(startOf(pair.key)), field: fieldName(keyPath), rule, value: name });
      } else {
        firstByName.set(name, startOf(pair.key));
      }
      problems.push(...duplicateKeyProblems(pair.value, keyPath, file, at));
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) problems.push(...duplicateKeyProblems(item, [...path, index], file, at));
  }
  return problems;
}

export function keyOrder(doc: Document, section: string): string[] {
  const map = doc.get(section, true);
  return isMap(map) ? map.items.map((pair) => keyText(pair.key)) : [];
}

export function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}
