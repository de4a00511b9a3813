/**
 * Compares two streams of documents ordered by id, in one pass and bounded
 * memory, like a merge join.
 */
export interface IdentifiedDocument {
  id: string;
  document: unknown;
  /** Set when the catalogue row cannot become a document at all (e.g. a NaN rating). */
  problem?: string;
}

export interface Difference {
  /** `unindexable`: the catalogue row cannot become a document, whatever the index holds. */
  kind: "missing" | "extra" | "different" | "unindexable";
  id: string;
  /** For "different": the top-level fields that differ. */
  fields?: string[];
  /** For "unindexable": why. */
  reason?: string;
}

export async function* compareOrderedStreams(
  expected: AsyncIterable<IdentifiedDocument>,
  actual: AsyncIterable<IdentifiedDocument>,
): AsyncGenerator<Difference> {
  const left = expected[Symbol.asyncIterator]();
  const right = actual[Symbol.asyncIterator]();
  let a = await left.next();
  let b = await right.next();
  while (!a.done || !b.done) {
    if (b.done || (!a.done && a.value.id < b.value.id)) {
      const expectedItem = a.value as IdentifiedDocument;
      yield expectedItem.problem !== undefined
        ? { kind: "unindexable", id: expectedItem.id, reason: expectedItem.problem }
        : { kind: "missing", id: expectedItem.id };
      a = await left.next();
    } else if (a.done || b.value.id < a.value.id) {
      yield { kind: "extra", id: b.value.id };
      b = await right.next();
    } else {
      if (a.value.problem !== undefined) {
        yield { kind: "unindexable", id: a.value.id, reason: a.value.problem };
      } else {
        const fields = differingFields(a.value.document, b.value.document);
        if (fields.length > 0) yield { kind: "different", id: a.value.id, fields };
      }
      a = await left.next();
      b = await right.next();
    }
  }
}

export function differingFields(expected: unknown, actual: unknown): string[] {
  if (!isRecord(expected) || !isRecord(actual)) return deepEqual(expected, actual) ? [] : ["(document)"];
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  return [...keys].filter((key) => !deepEqual(expected[key], actual[key])).sort();
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && deepEqual(a[key], b[key]));
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
