// Deterministic randomness: every entity draws from its own small generator,
// keyed by (seed, stream, index), and ids are hashes of (seed, stream, index),
// so any film, person or link can be rebuilt on its own, in any order, in any
// pass, always the same.

/** murmur3's 32-bit finaliser: a bijection on 32-bit integers, well mixed. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The streams the catalogue draws from; each gives independent sequences. */
export const Stream = {
  genre: 1,
  person: 2,
  film: 3,
  filmGenres: 4,
  filmPeople: 5,
} as const;
export type Stream = (typeof Stream)[keyof typeof Stream];

/** sfc32: a small, fast generator with 128 bits of state. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: Stream, index: number) {
    this.a = mix32(seed ^ 0x9e3779b9);
    this.b = mix32(stream + Math.imul(this.a, 0x632be5ab));
    this.c = mix32(index ^ Math.imul(this.b, 0x85ebca77));
    this.d = mix32(index + 0x27d4eb2f + this.c);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An index drawn with the given relative weights. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [index, weight] of weights.entries()) {
      roll -= weight;
      if (roll < 0) return index;
    }
    return weights.length - 1;
  }
}

/**
 * The id of entity `key` of `stream`: a version-4-shaped UUID from a
 * counter-based generator (hashes of the key). Its first 32 bits are a bijection
 * of `key` for a given seed and stream, so two keys never share an id however
 * many are drawn; keys are 32-bit (larger ones wrap).
 */
export function entityUuid(seed: number, stream: Stream, key: number): string {
  const streamKey = mix32(seed + Math.imul(stream, 0x3c6ef372));
  const first = mix32((key ^ streamKey) >>> 0);
  const second = mix32(first ^ 0x6a09e667 ^ streamKey);
  const third = mix32(second ^ 0xbb67ae85);
  const fourth = mix32(third ^ 0x3c6ef372);
  return (
    hex32(first) +
    "-" +
    hex16(second >>> 16) +
    "-" +
    hex16(0x4000 | (second & 0x0fff)) +
    "-" +
    hex16(0x8000 | ((third >>> 16) & 0x3fff)) +
    "-" +
    hex16(third & 0xffff) +
    hex32(fourth)
  );
}

const byteHex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

function hex16(value: number): string {
  return byteHex[(value >>> 8) & 0xff]! + byteHex[value & 0xff]!;
}

function hex32(value: number): string {
  return hex16(value >>> 16) + hex16(value & 0xffff);
}
