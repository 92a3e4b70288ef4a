import {closeSync, openSync, readSync, writeSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {FailedError} from '../errors.js'

/**
 * qemu-img writes a random content id (CID=xxxxxxxx) into a vmdk's embedded descriptor; the same
 * unit must give the same bytes, so it is replaced in place (same length) by one derived from the
 * unit's identity. The descriptor is stored uncompressed at descriptorOffset.
 */
export function fixVmdkCid(file: string, identity: string): void {
  const fd = openSync(file, 'r+')
  try {
    const head = Buffer.alloc(512)
    readSync(fd, head, 0, 512, 0)
    const descOffset = Number(head.readBigUInt64LE(28)) * 512
    const descSize = Number(head.readBigUInt64LE(36)) * 512
    if (descOffset === 0 || descSize === 0 || descSize > 1 << 20) throw new FailedError(`${file}: qemu-img wrote no embedded descriptor.`)
    const desc = Buffer.alloc(descSize)
    readSync(fd, desc, 0, descSize, descOffset)
    const text = desc.toString('latin1').replace(/\0[\s\S]*$/, '')
    if (!/\nCID=[0-9a-fA-F]+\n/.test(text)) throw new FailedError(`${file}: the vmdk descriptor has no CID line.`)
    const cid = createHash('sha256').update(`xway-vmdk-cid\0${identity}`).digest('hex').slice(0, 8)
    // qemu prints the CID without leading zeros: the whole descriptor is rewritten, padded as before
    const fixed = Buffer.alloc(descSize)
    const body = Buffer.from(text.replace(/\nCID=[0-9a-fA-F]+\n/, `\nCID=${cid}\n`), 'latin1')
    if (body.length > descSize) throw new FailedError(`${file}: the vmdk descriptor does not fit its space.`)
    body.copy(fixed)
    writeSync(fd, fixed, 0, descSize, descOffset)
  } finally {
    closeSync(fd)
  }
}
