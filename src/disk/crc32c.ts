// CRC32C (Castagnoli), as ext4's metadata checksums use it: the raw register without the final
// inversion (Linux crc32c_le), so ext4's chains (seed → inode number → generation → inode) compose.
const TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82F63B78 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

export function crc32cRaw(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  let c = crc >>> 0
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]) & 0xFF] ^ (c >>> 8)
  return c >>> 0
}
