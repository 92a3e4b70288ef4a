import {createHash, randomBytes} from 'node:crypto'
import {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {createDecryptStream, createEncryptStream} from '../../src/backup/container.js'

const TOTAL = 200 * 1024 * 1024
const MB = 1024 * 1024

test('streams a 200 MB round trip with flat memory', async () => {
  const pattern = randomBytes(MB)
  const sourceHash = createHash('sha256')
  const sinkHash = createHash('sha256')
  let produced = 0
  let received = 0
  const source = new Readable({
    read() {
      if (produced >= TOTAL) {
        this.push(null)
        return
      }

      // A different 64 KiB window of the random MB each time, so chunks are not all alike.
      const offset = (produced * 7) % (MB - 65_536)
      const piece = pattern.subarray(offset, offset + 65_536)
      produced += piece.length
      sourceHash.update(piece)
      this.push(piece)
    },
  })
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      received += chunk.length
      sinkHash.update(chunk)
      callback()
    },
  })

  globalThis.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 20)
  const started = performance.now()
  try {
    const encryptor = await createEncryptStream('memory test password', {iterations: 1000})
    const decryptor = createDecryptStream('memory test password')
    await pipeline(source, encryptor, decryptor, sink)
  } finally {
    clearInterval(sampler)
  }

  peak = Math.max(peak, process.memoryUsage().rss)
  const seconds = (performance.now() - started) / 1000
  const growth = (peak - before) / MB
  console.log(`  200 MB encrypt+decrypt through one pipeline: ${seconds.toFixed(2)} s (${(200 / seconds).toFixed(0)} MB/s), peak RSS growth ${growth.toFixed(1)} MB`)
  assert.is(received, TOTAL)
  assert.is(sinkHash.digest('hex'), sourceHash.digest('hex'))
  assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MB`)
})

test.run()
