/**
 * NumPy's `np.random.default_rng(seed)`, bit for bit: SeedSequence -> PCG64 (XSL-RR) -> doubles.
 *
 * The 128-bit state lives in eight 16-bit limbs (plain numbers), so a step is 36 small exact
 * products and no BigInt: fast enough for a fresh dropout mask every animation frame.
 * Besides `random()`, the generator keeps NumPy's buffered 32-bit draw (`nextUint32`), which
 * bounded integers (`integers`, `permutation`) use, so a stream that mixes them stays in step.
 * See /work/shared/reference/numpy_random_reference.py for the algorithm in plain Python.
 */

const M32 = 0xffffffff;
// SeedSequence's hash constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_L = 0xca01f9dd;
const MIX_R = 0x4973f715;
const POOL = 4;
// PCG64's 128-bit multiplier, as 16-bit limbs, least significant first.
const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;
const M128 = (1n << 128n) - 1n;
const [M0, M1, M2, M3, M4, M5, M6, M7] = Array.from(toLimbsOf(PCG_MULT));
const INV16 = 1 / 65536;
const TWO_M53 = 1 / 9007199254740992;
const TWO_21 = 2097152;

/** The uint32 words SeedSequence(seed).generate_state(nWords) returns. */
export function seedSequenceState(seed: bigint, nWords: number, spawnKey: number[] = []): number[] {
  const entropy: number[] = [];
  let x = seed;
  do {
    entropy.push(Number(x & 0xffffffffn));
    x >>= 32n;
  } while (x > 0n);
  // A spawned child's entropy: the seed's words padded to the pool size, then its key.
  if (spawnKey.length > 0) {
    while (entropy.length < POOL) entropy.push(0);
    for (const k of spawnKey) entropy.push(k >>> 0);
  }
  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  };
  const mix = (a: number, b: number): number => {
    let r = (Math.imul(MIX_L, a) - Math.imul(MIX_R, b)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool = new Array<number>(POOL).fill(0);
  for (let i = 0; i < POOL; i++) pool[i] = hashmix(i < entropy.length ? entropy[i] : 0);
  for (let src = 0; src < POOL; src++) {
    for (let dst = 0; dst < POOL; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    }
  }
  for (let src = POOL; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL; dst++) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  }
  const out: number[] = [];
  hashConst = INIT_B;
  for (let i = 0; i < nWords; i++) {
    let v = (pool[i % POOL] ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_B) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    out.push((v ^ (v >>> 16)) >>> 0);
  }
  return out;
}

function toLimbsOf(x: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((x >> BigInt(16 * i)) & 0xffffn));
}

function toLimbs(x: bigint): Float64Array {
  const limbs = new Float64Array(8);
  for (let i = 0; i < 8; i++) limbs[i] = Number((x >> BigInt(16 * i)) & 0xffffn);
  return limbs;
}

/** A seed as NumPy accepts it here: a whole number 0 <= seed (a number up to 2**53 - 1). */
export function checkSeed(seed: number | bigint, name = "seed"): bigint {
  if (typeof seed === "bigint") {
    if (seed < 0n) throw new RangeError(`${name} must be a whole number >= 0; got ${seed}`);
    return seed;
  }
  if (!(Number.isSafeInteger(seed) && seed >= 0)) {
    throw new RangeError(`${name} must be a whole number from 0 to 2**53 - 1; got ${seed}`);
  }
  return BigInt(seed);
}

/** `np.random.default_rng(seed)`: PCG64 seeded through SeedSequence. */
export class Generator {
  private readonly s = new Float64Array(8); // state limbs
  private readonly inc: Float64Array; // increment limbs (odd)
  // the 64-bit output of the last step, as two unsigned 32-bit halves
  private hi = 0;
  private lo = 0;
  // NumPy's buffered 32-bit draw: the upper half of a 64-bit output, kept for the next call
  private hasUint32 = false;
  private uinteger = 0;

  private readonly seed: bigint;
  private readonly spawnKey: number[];
  private nSpawned = 0;

  /** `default_rng(seed)`; with a spawn key, the child `SeedSequence(seed, spawn_key=key)`. */
  constructor(seed: number | bigint, spawnKey: number[] = []) {
    this.seed = checkSeed(seed);
    this.spawnKey = spawnKey.slice();
    const w = seedSequenceState(this.seed, 8, this.spawnKey);
    const u64 = [0, 1, 2, 3].map((i) => BigInt(w[2 * i]) | (BigInt(w[2 * i + 1]) << 32n));
    const initState = (u64[0] << 64n) | u64[1];
    const initSeq = (u64[2] << 64n) | u64[3];
    const inc = ((initSeq << 1n) | 1n) & M128;
    let state = inc & M128; // step from 0: 0 * MULT + inc
    state = (state + initState) & M128;
    state = (state * PCG_MULT + inc) & M128;
    this.inc = toLimbs(inc);
    this.s.set(toLimbs(state));
  }

  /** One LCG step, state = state * MULT + inc (mod 2**128), then the XSL-RR output. */
  private step(): void {
    const s = this.s;
    const c = this.inc;
    const s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5], s6 = s[6], s7 = s[7];
    // Schoolbook product with MULT's limbs (constants below), column by column: each
    // product < 2**32, a column < 2**36 with its carry, exact in a double; multiplying by
    // 2**-16 is exact, so floor gives the carry without a slow `%`.
    let acc = s0 * M0 + c[0];
    let carry = Math.floor(acc * INV16);
    const t0 = acc - carry * 65536;
    acc = carry + s0 * M1 + s1 * M0 + c[1];
    carry = Math.floor(acc * INV16);
    const t1 = acc - carry * 65536;
    acc = carry + s0 * M2 + s1 * M1 + s2 * M0 + c[2];
    carry = Math.floor(acc * INV16);
    const t2 = acc - carry * 65536;
    acc = carry + s0 * M3 + s1 * M2 + s2 * M1 + s3 * M0 + c[3];
    carry = Math.floor(acc * INV16);
    const t3 = acc - carry * 65536;
    acc = carry + s0 * M4 + s1 * M3 + s2 * M2 + s3 * M1 + s4 * M0 + c[4];
    carry = Math.floor(acc * INV16);
    const t4 = acc - carry * 65536;
    acc = carry + s0 * M5 + s1 * M4 + s2 * M3 + s3 * M2 + s4 * M1 + s5 * M0 + c[5];
    carry = Math.floor(acc * INV16);
    const t5 = acc - carry * 65536;
    acc = carry + s0 * M6 + s1 * M5 + s2 * M4 + s3 * M3 + s4 * M2 + s5 * M1 + s6 * M0 + c[6];
    carry = Math.floor(acc * INV16);
    const t6 = acc - carry * 65536;
    acc = carry + s0 * M7 + s1 * M6 + s2 * M5 + s3 * M4 + s4 * M3 + s5 * M2 + s6 * M1 + s7 * M0 + c[7];
    const t7 = acc - Math.floor(acc * INV16) * 65536;
    s[0] = t0; s[1] = t1; s[2] = t2; s[3] = t3; s[4] = t4; s[5] = t5; s[6] = t6; s[7] = t7;
    // XSL-RR: xor the two 64-bit halves, rotate right by the top 6 bits of the state
    const xHi = ((t7 * 65536 + t6) ^ (t3 * 65536 + t2)) >>> 0;
    const xLo = ((t5 * 65536 + t4) ^ (t1 * 65536 + t0)) >>> 0;
    const rot = t7 >>> 10;
    if (rot === 0) {
      this.hi = xHi;
      this.lo = xLo;
    } else if (rot < 32) {
      this.hi = ((xHi >>> rot) | (xLo << (32 - rot))) >>> 0;
      this.lo = ((xLo >>> rot) | (xHi << (32 - rot))) >>> 0;
    } else if (rot === 32) {
      this.hi = xLo;
      this.lo = xHi;
    } else {
      const r = rot - 32;
      this.hi = ((xLo >>> r) | (xHi << (32 - r))) >>> 0;
      this.lo = ((xHi >>> r) | (xLo << (32 - r))) >>> 0;
    }
  }

  /** `rng.spawn(k)`: k independent child generators (NumPy's SeedSequence.spawn). */
  spawn(k: number): Generator[] {
    const out: Generator[] = [];
    for (let i = 0; i < k; i++) out.push(new Generator(this.seed, [...this.spawnKey, this.nSpawned++]));
    return out;
  }

  /** A standard normal by Box-Muller from two `random()` draws (the package's lab jitter). */
  normalPair(): [number, number] {
    const r = Math.sqrt(-2 * Math.log1p(-this.random()));
    const t = 2 * Math.PI * this.random();
    return [r * Math.cos(t), r * Math.sin(t)];
  }

  /** `rng.random()`: the top 53 bits of a 64-bit draw, in [0, 1). */
  random(): number {
    this.step();
    return (this.hi * TWO_21 + (this.lo >>> 11)) * TWO_M53;
  }

  /** `rng.random(out.length)` in order, into `out`. */
  fill(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.random();
    return out;
  }

  /** A 64-bit draw as [high 32 bits, low 32 bits] (NumPy's next_uint64). */
  nextUint64(): [number, number] {
    this.step();
    return [this.hi, this.lo];
  }

  /** NumPy's next_uint32 for PCG64: the low half of a 64-bit draw, the high half buffered. */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    this.step();
    this.hasUint32 = true;
    this.uinteger = this.hi;
    return this.lo;
  }

  /**
   * `rng.integers(0, 2**16, size=out.length, dtype=np.uint16)`: each 32-bit draw split in two,
   * low half first (NumPy's buffered_uint16; the buffer lives for one call, as in NumPy).
   */
  fillUint16(out: Uint16Array): Uint16Array {
    let pending = false;
    let buf = 0;
    for (let i = 0; i < out.length; i++) {
      if (pending) {
        buf >>>= 16;
        pending = false;
      } else {
        buf = this.nextUint32();
        pending = true;
      }
      out[i] = buf & 0xffff;
    }
    return out;
  }

  /**
   * `rng.integers(0, high)` for 1 <= high <= 2**32 (int64 result): Lemire's multiply-shift
   * with rejection on 32-bit draws, as NumPy does for ranges that fit in 32 bits.
   */
  integers(high: number): number {
    if (!(Number.isInteger(high) && high >= 1 && high <= 2 ** 32)) {
      throw new RangeError(`high must be a whole number from 1 to 2**32; got ${high}`);
    }
    const range = high - 1;
    if (range === 0) return 0;
    if (range === M32) return this.nextUint32();
    const rangeExcl = high;
    let [mHi, leftover] = mulWide(this.nextUint32(), rangeExcl);
    if (leftover < rangeExcl) {
      const threshold = (M32 - range) % rangeExcl;
      while (leftover < threshold) [mHi, leftover] = mulWide(this.nextUint32(), rangeExcl);
    }
    return mHi;
  }

  /** NumPy's random_interval(max): a uniform whole number in [0, max] by masked rejection. */
  interval(max: number): number {
    if (max === 0) return 0;
    if (!(Number.isInteger(max) && max > 0 && max <= M32)) {
      throw new RangeError(`max must be a whole number from 0 to 2**32 - 1; got ${max}`);
    }
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > max);
    return value;
  }

  /** `rng.permutation(n)`: NumPy's Fisher-Yates from the end, with `interval`. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.interval(i);
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }
}

/** a * b for a < 2**32, b <= 2**32 as [high 32 bits, low 32 bits], exactly. */
function mulWide(a: number, b: number): [number, number] {
  const aHi = Math.floor(a / 65536);
  const aLo = a % 65536;
  const lowPart = aLo * b; // < 2**48: exact
  const highPart = aHi * b; // < 2**48: exact, in units of 2**16
  const lo16 = lowPart % 65536;
  const mid = highPart + (lowPart - lo16) / 65536; // < 2**49, in units of 2**16
  const lo = ((mid % 65536) * 65536 + lo16) >>> 0;
  const hi = Math.floor(mid / 65536);
  return [hi, lo];
}

/** `np.random.default_rng(seed)`. */
export function defaultRng(seed: number | bigint): Generator {
  return new Generator(seed);
}
