/** Dropout masks exactly as the package draws them: `rng.random(n) < keep_prob`. */
import { Generator } from "./random";
import { checkCount, checkKeepProb } from "./validate";

/** Largest mask the engine draws in one call (the package's MATERIALISE_MAX, 2**24). */
export const MASK_MAX = 2 ** 24;

function asGenerator(seed: number | bigint | Generator): Generator {
  return seed instanceof Generator ? seed : new Generator(seed);
}

/**
 * `dropout_figs.sample_keep_mask((n,), keep_prob=q, rng=np.random.default_rng(seed))`.
 *
 * @param n units in the layer
 * @param keepProb probability a unit is kept, in (0, 1]
 * @param seed a seed, or a Generator to draw from (advanced by n draws)
 * @param out optional buffer of length >= n to fill instead of allocating
 * @returns 1 where the unit is kept, 0 where it is dropped
 */
export function sampleKeepMask(
  n: number,
  keepProb: number,
  seed: number | bigint | Generator,
  out?: Uint8Array,
): Uint8Array {
  checkCount(n, "n", 0, MASK_MAX);
  checkKeepProb(keepProb);
  const rng = asGenerator(seed);
  const mask = out ?? new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng.random() < keepProb ? 1 : 0;
  return mask;
}

/**
 * Successive masks of one layer from one generator: frame k is the k-th call of
 * `sample_keep_mask((n,), q, rng=rng)` on `rng = default_rng(seed)`, as the mask-grid
 * figure draws its frames, so frame 0 equals `sampleKeepMask(n, q, seed)`.
 */
export class MaskStream {
  private readonly rng: Generator;
  private count = 0;

  constructor(
    readonly n: number,
    readonly keepProb: number,
    readonly seed: number,
  ) {
    checkCount(n, "n", 0, MASK_MAX);
    checkKeepProb(keepProb);
    this.rng = new Generator(seed);
  }

  /** The index of the mask the next call of `next()` returns. */
  get frame(): number {
    return this.count;
  }

  /** The next mask (into `out` if given). */
  next(out?: Uint8Array): Uint8Array {
    const mask = sampleKeepMask(this.n, this.keepProb, this.rng, out);
    this.count++;
    return mask;
  }
}
