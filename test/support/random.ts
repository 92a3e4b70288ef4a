/** A small seeded PRNG (mulberry32) so that randomised reliability tests can be replayed. */
export function seededPrng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed of a randomised test: XWAY_TEST_SEED when set (to replay a failure), else fresh. */
export function testSeed(): number {
  const fromEnv = Number(process.env.XWAY_TEST_SEED)
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1
}
