/** Input checks shared by the engine: one RangeError naming the parameter, the rule and the value. */

/** A keep probability q in (0, 1]; written positively so NaN fails too. */
export function checkKeepProb(keepProb: number, name = "keepProb"): number {
  if (!(typeof keepProb === "number" && keepProb > 0 && keepProb <= 1)) {
    throw new RangeError(`${name} must be in (0, 1] (the probability a unit is kept); got ${keepProb}`);
  }
  return keepProb;
}

/** A whole number in [low, high]. */
export function checkCount(value: number, name: string, low: number, high = Number.MAX_SAFE_INTEGER): number {
  if (!(Number.isSafeInteger(value) && value >= low && value <= high)) {
    throw new RangeError(`${name} must be a whole number from ${low} to ${high}; got ${value}`);
  }
  return value;
}

/** A finite number in (low, high] or [low, high]. */
export function checkFinite(value: number, name: string, low: number, high: number, lowOpen = false): number {
  const aboveLow = lowOpen ? value > low : value >= low;
  if (!(typeof value === "number" && Number.isFinite(value) && aboveLow && value <= high)) {
    const range = `${lowOpen ? "(" : "["}${low}, ${high}]`;
    throw new RangeError(`${name} must be a finite number in ${range}; got ${value}`);
  }
  return value;
}
