import {createHash} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'
import {FailedError} from '../errors.js'
import {fsyncPath} from '../unit/fsutil.js'

// The redo journal of a disk image commit, beside the image (FILE.xway-journal): every block the
// commit changes, with its offset, and a SHA-256 of the whole. It is written under a temporary
// name, fsynced and renamed into place: that rename is the commit point. Applying it is idempotent
// (the same bytes to the same offsets), so a crash while applying is finished by applying again.

const MAGIC = Buffer.from('XWAYJRN1')

export interface JournalRecord {
  offset: number
  data: Buffer
}

export interface Journal {
  command: string
  imageSize: number
  records: JournalRecord[]
}

export function journalPath(image: string): string {
  return `${image}.xway-journal`
}

/** Writes and commits a journal (returns once the rename is durable). */
export function commitJournal(image: string, journal: Journal): void {
  const path = journalPath(image)
  const tmp = `${path}.tmp`
  const head = Buffer.from(JSON.stringify({formatVersion: 1, command: journal.command, imageSize: journal.imageSize, records: journal.records.length}))
  const hash = createHash('sha256')
  const fd = openSync(tmp, 'w', 0o600)
  try {
    const put = (b: Buffer): void => {
      hash.update(b)
      let off = 0
      while (off < b.length) off += writeSync(fd, b, off, b.length - off)
    }
    const len = Buffer.alloc(4)
    len.writeUInt32LE(head.length)
    put(MAGIC)
    put(len)
    put(head)
    for (const r of journal.records) {
      const h = Buffer.alloc(12)
      h.writeBigUInt64LE(BigInt(r.offset), 0)
      h.writeUInt32LE(r.data.length, 8)
      put(h)
      put(r.data)
    }
    const digest = hash.digest()
    writeSync(fd, digest, 0, digest.length)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path) // the commit point
  fsyncPath(dirname(path))
}

/** The committed journal, or null when there is none; a damaged one is an error, never guessed at. */
export function readJournal(image: string): Journal | null {
  const path = journalPath(image)
  if (!existsSync(path)) return null
  const buf = readFileSync(path)
  const bad = (): FailedError => new FailedError(`${path} is damaged (its checksum does not match); the image was not changed by recover.`, {
    actions: ['Restore the image from a copy, or re-export it from its unit.'],
  })
  if (buf.length < MAGIC.length + 4 + 32 || !buf.subarray(0, 8).equals(MAGIC)) throw bad()
  const body = buf.subarray(0, buf.length - 32)
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32))) throw bad()
  const hlen = body.readUInt32LE(8)
  const head = JSON.parse(body.toString('utf8', 12, 12 + hlen)) as {command: string; imageSize: number; records: number}
  const records: JournalRecord[] = []
  let pos = 12 + hlen
  for (let i = 0; i < head.records; i++) {
    const offset = Number(body.readBigUInt64LE(pos))
    const len = body.readUInt32LE(pos + 8)
    records.push({offset, data: body.subarray(pos + 12, pos + 12 + len)})
    pos += 12 + len
  }
  return {command: head.command, imageSize: head.imageSize, records}
}

/** Test hook (as in src/unit/transaction.ts): widens the window between applied blocks so that crash tests land inside it. */
function applyDelay(): void {
  const ms = Number(process.env.XWAY_TEST_OP_DELAY_MS ?? 0)
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Applies a committed journal to the image in place, fsyncs, and removes the journal. */
export function applyJournal(image: string, journal: Journal): void {
  const fd = openSync(image, 'r+')
  try {
    for (const r of journal.records) {
      applyDelay()
      let off = 0
      while (off < r.data.length) off += writeSync(fd, r.data, off, r.data.length - off, r.offset + off)
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  unlinkSync(journalPath(image))
  fsyncPath(dirname(image))
}

/** An uncommitted journal (crash before the rename): nothing reached the image; dropped. */
export function dropIncompleteJournal(image: string): boolean {
  const tmp = `${journalPath(image)}.tmp`
  if (!existsSync(tmp)) return false
  rmSync(tmp, {force: true})
  return true
}
