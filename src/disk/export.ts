import {createHash} from 'node:crypto'
import {closeSync, readSync, copyFileSync, createReadStream, existsSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync} from 'node:fs'
import {basename, dirname, extname, join, resolve} from 'node:path'
import {BadInputError, UsageError} from '../errors.js'
import {walk} from '../unit/fsutil.js'
import {isTransient, TOOL} from '../unit/tool-paths.js'
import type {UnitStore} from '../unit/store.js'
import type {ProductInfo} from '../product.js'
import {Ext4, ROOT_INO} from './ext4.js'
import {buildGpt} from './gpt.js'
import {DEFAULT_DISK_BYTES, derivedGuid, gptLayout, identityOf, MOUNTS, type PartitionName, planPartitions, unitTime} from './layout.js'
import {buildOvf} from './ova.js'
import {FileSource} from './source.js'
import {requireE2fsprogs, requireQemuImg, runTool} from './tools.js'
import {checkTree, writeTree} from './tree.js'
import type {ImageFormat} from './image.js'
import {tarStream} from '../unit/tar.js'
import {pipeline} from 'node:stream/promises'
import {createWriteStream} from 'node:fs'
import {fixVmdkCid} from './vmdk-fix.js'

export interface ExportResult {
  file: string
  format: ImageFormat
  bytes: number
  diskSize: number
  sha256: string
}

/** Runs one titled step of long work (the command's progress renderer); plain call by default. */
export type Stepper = <R>(title: string, work: () => Promise<R> | R) => Promise<R>
const plain: Stepper = async (_title, work) => work()

export function formatFromName(file: string): ImageFormat | null {
  const ext = extname(file).toLowerCase()
  if (ext === '.img' || ext === '.raw') return 'raw'
  if (ext === '.qcow2') return 'qcow2'
  if (ext === '.vmdk') return 'vmdk'
  if (ext === '.ova') return 'ova'
  return null
}

/** The ext4 of every partition: fixed features and geometry, whatever the host's /etc/mke2fs.conf says. */
const MKE2FS_CONF = `[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
`

export function mke2fsArgs(o: {label: string; uuid: string; hashSeed: string; offset: number; size: number; source: string; file: string}): string[] {
  return ['-q', '-F', '-t', 'ext4', '-L', o.label, '-U', o.uuid, '-E', `hash_seed=${o.hashSeed},root_owner=0:0,offset=${o.offset},lazy_itable_init=1,lazy_journal_init=1`, '-d', o.source, o.file, `${o.size / 1024}k`]
}

/**
 * Sets every inode's times to the unit's time and its owner to root, and the partition root's mode
 * to its folder's: mke2fs -d copies the host's atime, mtime and ctime (the last cannot be set on
 * the host), which would make two exports of one unit differ. Checksums are recomputed.
 */
export function normalizeInodes(file: string, offset: number, size: number, time: number, rootMode: number): number {
  const src = new FileSource(file)
  const fd = openSync(file, 'r+')
  let patched = 0
  try {
    const fs = new Ext4(src, offset, size, basename(file))
    const seen = new Set<number>()
    const visit = (ino: number): void => {
      if (seen.has(ino)) return
      seen.add(ino)
      const inode = fs.inode(ino)
      const raw = Buffer.from(inode.raw)
      if (ino === ROOT_INO) raw.writeUInt16LE((raw.readUInt16LE(0) & 0xF000) | rootMode, 0)
      raw.writeUInt16LE(0, 0x02) // uid
      raw.writeUInt16LE(0, 0x18) // gid
      raw.writeUInt16LE(0, 0x78) // uid high
      raw.writeUInt16LE(0, 0x7A) // gid high
      for (const at of [0x08, 0x0C, 0x10]) raw.writeUInt32LE(time, at)
      const extra = fs.inodeSize > 128 ? raw.readUInt16LE(0x80) : 0
      for (const at of [0x84, 0x88, 0x8C, 0x94]) if (at + 4 <= 128 + extra) raw.writeUInt32LE(0, at)
      if (0x94 <= 128 + extra) raw.writeUInt32LE(time, 0x90)
      if (fs.hasMetadataCsum) {
        const c = fs.inodeChecksum(ino, raw)
        raw.writeUInt16LE(c.lo, 0x7C)
        if (c.hi !== null) raw.writeUInt16LE(c.hi, 0x82)
      }
      if (!raw.equals(inode.raw)) {
        writeSync(fd, raw, 0, raw.length, offset + inode.at)
        patched++
      }
      if (inode.kind === 'dir') for (const e of fs.readDir(inode)) visit(e.ino)
    }
    visit(ROOT_INO)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
    src.close()
  }
  return patched
}

interface UnitSource {
  dir: string
  info: ProductInfo
  time: number
}

/** The root partition's tree: the unit without tandberg/ and mnt/harddisk/ (kept as empty mount points) and without the tool's transient state. */
function stageRoot(unit: string, dest: string): void {
  mkdirSync(dest, {recursive: true})
  for (const {rel, stat} of walk(unit, (rel) => !isTransient(rel) && !rel.startsWith('tandberg/') && !rel.startsWith('mnt/harddisk/'))) {
    const to = join(dest, rel)
    if (stat.isDirectory()) mkdirSync(to, {mode: stat.mode & 0o7777})
    else if (stat.isSymbolicLink()) symlinkSync(readlinkSync(join(unit, rel)), to)
    else if (stat.isFile()) {
      try {
        linkSync(join(unit, rel), to)
      } catch {
        copyFileSync(join(unit, rel), to)
      }
    }
  }
}

function checkUnitDir(unit: string): void {
  for (const {rel, stat} of walk(unit, (rel) => !isTransient(rel))) {
    if (!stat.isDirectory() && !stat.isFile() && !stat.isSymbolicLink()) throw new BadInputError(`${rel} is a device, FIFO or socket; a disk image holds files, folders and links only.`, {actions: ['Remove it from the unit, then export again.']})
  }
  for (const mount of ['', 'tandberg', 'mnt/harddisk']) {
    const lf = join(unit, mount, 'lost+found')
    if (existsSync(lf)) throw new BadInputError(`${mount ? `${mount}/` : ''}lost+found is in the unit; that name is each ext4 partition's own.`, {actions: ['Rename or remove it, then export again.']})
  }
  for (const mount of ['tandberg', 'mnt/harddisk']) {
    const st = existsSync(join(unit, mount)) ? lstatSync(join(unit, mount)) : null
    if (!st || !st.isDirectory()) throw new BadInputError(`${mount}/ is missing from the unit (or is not a folder).`, {actions: ['Run xway image verify on the unit.']})
  }
}

function unitSource(dir: string, info: ProductInfo): UnitSource {
  const audit = existsSync(join(dir, TOOL.audit)) ? readFileSync(join(dir, TOOL.audit)) : null
  return {dir, info, time: unitTime(audit)}
}

/** Builds the raw disk of a unit folder into `file` (created sparse, diskSize bytes). */
export async function buildRaw(unit: string, info: ProductInfo, file: string, diskSize: number, stage: string, step: Stepper = plain): Promise<UnitSource> {
  requireE2fsprogs()
  checkUnitDir(unit)
  const src = unitSource(unit, info)
  const identity = identityOf(src.info)
  const parts = planPartitions(diskSize)
  const layout = gptLayout(identity, parts)
  const fd = openSync(file, 'w', 0o644)
  try {
    const gpt = buildGpt(diskSize, layout)
    writeSync(fd, gpt.head, 0, gpt.head.length, 0)
    writeSync(fd, gpt.tail, 0, gpt.tail.length, gpt.tailOffset)
    // ftruncate keeps the disk sparse: only the GPT and what mke2fs writes take space
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  const conf = join(stage, 'mke2fs.conf')
  writeFileSync(conf, MKE2FS_CONF)
  const rootTree = join(stage, 'root')
  stageRoot(unit, rootTree)
  const sources: Record<PartitionName, string> = {root: rootTree, tandberg: join(unit, MOUNTS.tandberg), harddisk: join(unit, MOUNTS.harddisk)}
  for (const p of parts) {
    await step(`Building partition ${p.name} (${Math.round(p.size / 1024 ** 2)} MiB)`, async () => {
      await runTool('mke2fs', mke2fsArgs({label: p.name, uuid: derivedGuid(identity, 'filesystem', p.name).toLowerCase(), hashSeed: derivedGuid(identity, 'hash-seed', p.name).toLowerCase(), offset: p.offset, size: p.size, source: sources[p.name], file}), {
        MKE2FS_CONFIG: conf,
        E2FSPROGS_FAKE_TIME: String(src.time),
        MKE2FS_SYNC: '',
      })
      normalizeInodes(file, p.offset, p.size, src.time, statSync(sources[p.name]).mode & 0o7777)
    })
  }
  return src
}

/** The data extents of a file (FIEMAP through e2fsprogs' filefrag), or null where the filesystem cannot tell. */
async function dataExtents(file: string, size: number): Promise<Array<[number, number]> | null> {
  try {
    const out = await runTool('filefrag', ['-s', '-v', '-e', file])
    const bs = Number(/blocks of (\d+) bytes/.exec(out)?.[1])
    if (!Number.isInteger(bs) || bs <= 0) return null
    const ranges: Array<[number, number]> = []
    for (const m of out.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):.*?(unwritten)?[^\n]*$/gm)) {
      if (m[0].includes('unwritten')) continue
      ranges.push([Number(m[1]) * bs, Math.min(size, (Number(m[2]) + 1) * bs)])
    }
    return ranges
  } catch {
    return null
  }
}

/**
 * SHA-256 of a file. A sparse disk is mostly holes: their zeros are hashed from memory, and only
 * the extents holding data are read (a 132 GiB raw disk still costs its ~1 min of hashing).
 */
export async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256')
  const size = statSync(file).size
  const extents = size > 256 << 20 ? await dataExtents(file, size) : null
  if (!extents) {
    for await (const chunk of createReadStream(file, {highWaterMark: 4 << 20})) h.update(chunk as Buffer)
    return h.digest('hex')
  }
  const zeros = Buffer.alloc(16 << 20)
  const fd = openSync(file, 'r')
  try {
    let pos = 0
    const hashZeros = (n: number): void => {
      for (; n > 0; n -= Math.min(n, zeros.length)) h.update(Math.min(n, zeros.length) === zeros.length ? zeros : zeros.subarray(0, n))
    }
    const buf = Buffer.alloc(4 << 20)
    for (const [start, end] of extents) {
      if (start < pos || end <= start) continue
      hashZeros(start - pos)
      for (let at = start; at < end;) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at)
        if (n <= 0) throw new Error(`${file} changed while it was hashed`)
        h.update(n === buf.length ? buf : buf.subarray(0, n))
        at += n
      }
      pos = end
    }
    hashZeros(size - pos)
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function toVmdk(raw: string, vmdk: string): Promise<string> {
  return runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic', raw, vmdk])
}

export interface ExportOptions {
  /** the unit's product identity (the brand area reads it): names, UUIDs and the OVF come from it */
  info: ProductInfo
  format?: ImageFormat
  diskSize?: number
  step?: Stepper
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`)
}

/**
 * `image export`: a unit (a folder, or any UnitStore read through its reader) as a raw, qcow2,
 * streamOptimized vmdk or ova disk image, the same bytes for the same unit. Written beside the
 * output under a temporary name and renamed into place; removed on failure.
 */
export async function exportUnit(source: string | UnitStore, output: string, options: ExportOptions): Promise<ExportResult> {
  const format = options.format ?? formatFromName(output)
  if (!format) throw new UsageError(`Cannot tell the format of ${output} from its extension.`, {actions: ['Add --format raw|qcow2|vmdk|ova, or name the file .img, .raw, .qcow2, .vmdk or .ova.']})
  const diskSize = options.diskSize ?? DEFAULT_DISK_BYTES
  const step = options.step ?? plain
  if (format !== 'raw') requireQemuImg(`to write ${format} images`)
  const out = resolve(output)
  const store = typeof source === 'string' ? null : source
  const unitPath = resolve(typeof source === 'string' ? source : source.path)
  if (!existsSync(unitPath)) throw new BadInputError(`${unitPath} does not exist.`)
  mkdirSync(dirname(out), {recursive: true})
  const realUnit = realpathSync(unitPath)
  if (statSync(realUnit).isDirectory() ? isInside(realpathSync(dirname(out)), realUnit) : out === realUnit) {
    throw new UsageError(`-o ${output} is inside the unit; the image would be part of what it copies.`, {actions: ['Write the image outside the unit folder.']})
  }
  const stage = `${out}.xway-export-${process.pid}`
  rmSync(stage, {recursive: true, force: true})
  mkdirSync(stage, {recursive: true})
  const part = `${out}.xway-part-${process.pid}`
  try {
    let unitDir = unitPath
    if (store && store.kind !== 'directory') {
      unitDir = join(stage, 'unit')
      mkdirSync(unitDir)
      const reader = store.reader()
      await step('Reading the unit', () => writeTree(reader, checkTree(reader, basename(store.path)), unitDir))
    }
    const raw = format === 'raw' ? part : join(stage, 'disk.raw')
    const src = await buildRaw(unitDir, options.info, raw, diskSize, stage, step)
    // qemu-img writes the file's own name into a vmdk's descriptor: convert under the final name
    const converted = join(stage, basename(out))
    if (format === 'qcow2') {
      await step('Converting to qcow2', () => runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, converted]))
      renameSync(converted, part)
    } else if (format === 'vmdk') {
      await step('Converting to vmdk (streamOptimized)', () => toVmdk(raw, converted))
      fixVmdkCid(converted, identityOf(src.info))
      renameSync(converted, part)
    } else if (format === 'ova') {
      const name = basename(out).replace(/\.ova$/i, '')
      const vmdkName = `${name}-disk1.vmdk`
      const vmdk = join(stage, vmdkName)
      await step('Converting to vmdk (streamOptimized)', () => toVmdk(raw, vmdk))
      fixVmdkCid(vmdk, identityOf(src.info))
      rmSync(raw, {force: true})
      const vmdkBytes = statSync(vmdk).size
      const ovf = Buffer.from(buildOvf({name, info: src.info, diskBytes: diskSize, vmdkName, vmdkBytes}))
      const vmdkSha = await step('Hashing the disk', () => sha256Of(vmdk))
      const ovfSha = createHash('sha256').update(ovf).digest('hex')
      const mf = Buffer.from(`SHA256(${name}.ovf)= ${ovfSha}\nSHA256(${vmdkName})= ${vmdkSha}\n`)
      await step('Writing the OVA', () => pipeline(tarStream([
        {rel: `${name}.ovf`, kind: 'file', mode: 0o644, size: ovf.length, data: ovf},
        {rel: `${name}.mf`, kind: 'file', mode: 0o644, size: mf.length, data: mf},
        {rel: vmdkName, kind: 'file', mode: 0o644, size: vmdkBytes, source: vmdk},
      ], {mtime: src.time}), createWriteStream(part, {mode: 0o644, highWaterMark: 1 << 20})))
    }
    fsyncFile(part)
    renameSync(part, out)
    fsyncFile(dirname(out))
    const sha256 = await step('Hashing the image', () => sha256Of(out))
    const fd = openSync(out, 'r')
    const bytes = fstatSync(fd).size
    closeSync(fd)
    return {file: output, format, bytes, diskSize, sha256}
  } catch (error) {
    rmSync(part, {force: true})
    throw error
  } finally {
    rmSync(stage, {recursive: true, force: true})
  }
}
