/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32).
 *
 * Why hand-written: the generator must replay the exact same sequence for a seed on
 * every Node version and platform, forever; `Math.random` cannot be seeded and a
 * 40-line PRNG is easier to audit than a dependency. sfc32 passes PractRand/BigCrush,
 * is fast in 32-bit integer JS arithmetic and has a 128-bit state.
 */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element, uniformly. The array must not be empty. */
  pick<T>(items: readonly T[]): T;
  /** One value, with probability proportional to its weight. Weights must not all be 0. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
  /** Log-normal sample with the given median and log-space standard deviation. */
  logNormal(median: number, sigma: number): number;
  /** Log-uniform sample in [min, max). */
  logUniform(min: number, max: number): number;
  /** `length` random characters from [0-9a-z]. */
  base36(length: number): string;
  /** A random RFC 4122 version-4 UUID string. */
  uuid(): string;
}

/** splitmix32: spreads a (possibly small or similar) seed over a full 32-bit state word. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const HEX = '0123456789abcdef';
const B36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Creates a seeded {@link Rng}. `stream` selects an independent sequence for the same
 * seed, so that e.g. population set-up and event generation do not disturb each other.
 *
 * @example
 * const rng = createRng(42);
 * rng.int(1, 6); // the same die roll on every run
 */
export function createRng(seed: number, stream = 0): Rng {
  const init = { s: (Math.trunc(seed) ^ Math.imul(stream + 1, 0x632be5ab)) | 0 };
  let a = splitmix32(init);
  let b = splitmix32(init);
  let c = splitmix32(init);
  let d = splitmix32(init);

  const uint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Warm-up: sfc32's first outputs are weakly mixed.
  for (let i = 0; i < 12; i++) uint32();

  const float = (): number => uint32() / 4294967296;

  const rng: Rng = {
    uint32,
    float,
    int: (min, max) => min + Math.floor(float() * (max - min + 1)),
    chance: (p) => float() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(float() * items.length)] as T,
    weighted: <T>(entries: readonly (readonly [T, number])[]): T => {
      let total = 0;
      for (const [, w] of entries) total += w;
      let u = float() * total;
      let last: { value: T } | undefined;
      for (const [value, w] of entries) {
        if (w > 0) last = { value };
        if (u < w) return value;
        u -= w;
      }
      // Only reached through float rounding (or when every weight is 0).
      if (!last) throw new RangeError('weighted() needs at least one positive weight');
      return last.value;
    },
    logNormal: (median, sigma) => {
      // Box-Muller; 1 - float() keeps the logarithm's argument in (0, 1].
      const z = Math.sqrt(-2 * Math.log(1 - float())) * Math.cos(2 * Math.PI * float());
      return median * Math.exp(sigma * z);
    },
    logUniform: (min, max) => Math.exp(Math.log(min) + float() * (Math.log(max) - Math.log(min))),
    base36: (length) => {
      let out = '';
      for (let i = 0; i < length; i++) out += B36[uint32() % 36];
      return out;
    },
    uuid: () => {
      let hex = '';
      for (let i = 0; i < 4; i++) hex += uint32().toString(16).padStart(8, '0');
      const variant = HEX[8 + (uint32() & 3)];
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
  };
  return rng;
}

/** FNV-1a 32-bit hash of a string, mixed with a seed; used for stable derived ids. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so similar inputs give unrelated outputs.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
