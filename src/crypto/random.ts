import {createHmac, randomBytes} from 'node:crypto'

/**
 * Where key generation, salts and serial numbers take their bytes from. Everything that
 * needs randomness takes a RandomSource, so that `image create --seed` can make a unit
 * whose keys, salts and certificates are reproducible byte for byte.
 */
export interface RandomSource {
  bytes(n: number): Buffer
}

export function systemRandom(): RandomSource {
  return {bytes: (n) => randomBytes(n)}
}

const BLOCK = 32 // HMAC-SHA256 output

/**
 * A deterministic stream: block i is HMAC-SHA256(K, i as 8 bytes big-endian), with
 * K = HMAC-SHA256(seed, "xway-random-v1\0" + label). The label separates the streams of one
 * seed (one per key, salt, certificate...), so that adding a consumer never shifts the
 * bytes another consumer sees. Not a source for secrets meant to stay secret from whoever
 * knows the seed: that is the point of a seed.
 */
export function seededRandom(seed: string, label: string): RandomSource {
  const key = createHmac('sha256', seed).update('xway-random-v1\0').update(label).digest()
  let counter = 0n
  let pool = Buffer.alloc(0)
  const block = (): Buffer => {
    const index = Buffer.alloc(8)
    index.writeBigUInt64BE(counter++)
    return createHmac('sha256', key).update(index).digest()
  }
  return {
    bytes(n: number): Buffer {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`cannot draw ${n} random bytes`)
      const chunks: Buffer[] = [pool]
      let have = pool.length
      while (have < n) {
        const next = block()
        chunks.push(next)
        have += BLOCK
      }
      const all = Buffer.concat(chunks, have)
      pool = Buffer.from(all.subarray(n))
      return Buffer.from(all.subarray(0, n))
    },
  }
}

/** Seeded when a seed is given (`--seed`), else the system's generator. */
export function randomFor(seed: string | undefined, label: string): RandomSource {
  return seed === undefined ? systemRandom() : seededRandom(seed, label)
}
