import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {debugfs, editGpt, exportImage, sh, sha256File} from '../support/disk.js'
import {cleanup, makeUnit, tempDir, xwayJson} from '../support/run.js'

// Hostile images, each made well formed with the real tools (sfdisk, debugfs, qemu-img, tar) and
// hostile in one way only: import refuses them with exit 4 and writes nothing.

const test = suite('hostile disk images')
const dir = tempDir('xway-disk-hostile-')
const unit = makeUnit(dir, {seed: 'disk-hostile'})
const base = join(dir, 'base.img')
exportImage(unit, base)
let n = 0

function copy(): string {
  const f = join(dir, `h${n++}.img`)
  execFileSync('cp', ['--sparse=always', base, f])
  return f
}

function refused(file: string, pattern: string | RegExp): void {
  const target = join(dir, `target-${n++}`)
  // import opens the image read-only: any write would move its ctime
  const stamp = (): string => {
    const st = statSync(file, {bigint: true})
    return `${st.size} ${st.mtimeNs} ${st.ctimeNs}`
  }
  const before = stamp()
  const r = xwayJson(['image', 'import', file, target], {timeoutMs: 60_000})
  assert.is(r.code, 4, `${file}: ${r.stdout}${r.stderr}`)
  assert.match(r.json.error.message, pattern)
  assert.not.ok(existsSync(target), 'nothing written')
  assert.equal(readdirSync(dir).filter((f) => f.includes('xway-import')), [], 'no temporary folder left')
  assert.is(stamp(), before, 'the image is not changed')
}

test('a disk whose table is not GPT (sfdisk dos label)', () => {
  const f = join(dir, 'dos.img')
  execFileSync('truncate', ['-s', '64M', f])
  assert.is(sh('sfdisk', ['-q', f], {input: 'label: dos\n2048,,83\n'}).code, 0)
  refused(f, 'not GPT')
})

test('a missing named partition (sfdisk renames harddisk)', () => {
  const f = copy()
  assert.is(sh('sfdisk', ['-q', '--part-label', f, '3', 'data']).code, 0)
  refused(f, 'no partition named "harddisk"')
})

test('overlapping partitions (entries edited, CRCs consistent)', () => {
  const f = copy()
  editGpt(f, (e) => e.writeBigUInt64LE(e.readBigUInt64LE(128 + 32) - 2048n, 128 + 32))
  refused(f, 'overlap')
})

test('a partition past the end of the disk (the file cut short)', () => {
  const f = copy()
  truncateSync(f, 4 * 1024 ** 3)
  refused(f, 'past the end')
})

test('a filesystem holding a FIFO or a device (debugfs mknod)', () => {
  const fifo = copy()
  debugfs(fifo, 'tandberg', ['mknod pipe p'])
  refused(fifo, 'device, FIFO or socket')
  const dev = copy()
  debugfs(dev, 'root', ['cd etc', 'mknod sda b 8 0'])
  refused(dev, 'etc/sda is a device')
})

test('links leaving the unit: relative, absolute, and a chain whose real folder is higher than it looks', () => {
  const rel = copy()
  debugfs(rel, 'harddisk', ['cd log', 'symlink escape ../../../../etc/passwd'])
  refused(rel, 'leaves the unit')
  const abs = copy()
  debugfs(abs, 'tandberg', ['symlink hostkeys /etc/ssh'])
  refused(abs, 'absolute')
  // etc/ssh/up -> ../.. is the unit's root; x -> etc/ssh/up/.. looks like "etc/ssh" lexically, but really is above the unit
  const chain = copy()
  debugfs(chain, 'root', ['cd etc/ssh', 'symlink up ../..', 'cd /', 'symlink x etc/ssh/up/..'])
  refused(chain, 'x -> etc/ssh/up/.. leaves the unit')
})

test('a corrupt filesystem (superblock magic zeroed) is bad input, not a crash', () => {
  const f = copy()
  const off = Number(JSON.parse(sh('sfdisk', ['-J', f]).stdout).partitiontable.partitions[1].start) * 512
  execFileSync('dd', ['if=/dev/zero', `of=${f}`, 'bs=1', 'count=2', `seek=${off + 1024 + 0x38}`, 'conv=notrunc'], {stdio: 'ignore'})
  refused(f, 'bad superblock magic')
})

test('a qcow2 with a backing file (a FIFO: opening it would hang) is refused unopened', () => {
  const fifo = join(dir, 'backing.fifo')
  execFileSync('mkfifo', [fifo])
  const q = join(dir, 'overlay.qcow2')
  assert.is(sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', fifo, '-F', 'raw', q, '5G']).code, 0)
  refused(q, 'backing file')
})

test('vmdks whose extents are other files: a descriptor naming the host, an embedded descriptor edited', () => {
  const desc = join(dir, 'hostile.vmdk')
  writeFileSync(desc, '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 10485760 FLAT "/etc/hostname" 0\n')
  refused(desc, 'extents are other files')
  const v = join(dir, 'edited.vmdk')
  assert.is(sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', base, v]).code, 0)
  const buf = readFileSync(v)
  const text = buf.toString('latin1', 512, 1024)
  const m = /RW (\d+) SPARSE "edited\.vmdk"/.exec(text)!
  assert.ok(m, text)
  const evil = `RW ${m[1]} SPARSE "../x.vmdk"`
  buf.write(evil.padEnd(m[0].length, ' '), 512 + m.index, 'latin1')
  writeFileSync(v, buf)
  refused(v, 'names extents other than this file')
})

function ovaParts(name: string): string {
  const src = join(dir, `${name}-src`)
  mkdirSync(src)
  const ova = join(dir, 'ok.ova')
  if (!existsSync(ova)) exportImage(unit, ova)
  execFileSync('tar', ['-xf', ova, '-C', src])
  return src
}

function tarOva(src: string, out: string, members: string[], extra: string[] = []): void {
  execFileSync('tar', ['--format=ustar', ...extra, '-cf', out, '-C', src, ...members])
}

test('an OVA whose manifest digest does not match (the OVF altered)', () => {
  const src = ovaParts('digest')
  writeFileSync(join(src, 'ok.ovf'), readFileSync(join(src, 'ok.ovf'), 'utf8').replace('Cisco Expressway', 'Cisco Expresswax'))
  const out = join(dir, 'digest.ova')
  tarOva(src, out, ['ok.ovf', 'ok.mf', 'ok-disk1.vmdk'])
  refused(out, 'does not match the manifest')
})

test('an OVA whose OVF names a URL, or a file that is not in it', () => {
  for (const [href, why] of [['http://192.0.2.1/disk.vmdk', 'URL or path'], ['other-disk.vmdk', 'not a member']] as const) {
    const src = ovaParts(`href-${n++}`)
    const ovf = readFileSync(join(src, 'ok.ovf'), 'utf8').replace('ovf:href="ok-disk1.vmdk"', `ovf:href="${href}"`)
    writeFileSync(join(src, 'ok.ovf'), ovf)
    const mf = readFileSync(join(src, 'ok.mf'), 'utf8').replace(/SHA256\(ok\.ovf\)= [0-9a-f]+/, `SHA256(ok.ovf)= ${sha256File(join(src, 'ok.ovf'))}`)
    writeFileSync(join(src, 'ok.mf'), mf)
    const out = join(dir, `href-${n++}.ova`)
    tarOva(src, out, ['ok.ovf', 'ok.mf', 'ok-disk1.vmdk'])
    refused(out, why)
  }
})

test('an OVA whose member names leave the archive (../, absolute)', () => {
  const src = ovaParts('names')
  const out = join(dir, 'names.ova')
  tarOva(src, out, ['ok.ovf', 'ok.mf', 'ok-disk1.vmdk'], ['--transform', 's,^ok-disk1,../ok-disk1,', '-P'])
  refused(out, 'leaves the archive')
  const abs = join(dir, 'abs.ova')
  tarOva(src, abs, ['ok.ovf', 'ok.mf', 'ok-disk1.vmdk'], ['--transform', 's,^ok-disk1,/tmp/ok-disk1,', '-P'])
  refused(abs, 'leaves the archive')
})

test('an OVA whose first member is not the OVF', () => {
  const src = ovaParts('order')
  const out = join(dir, 'order.ova')
  tarOva(src, out, ['ok.mf', 'ok.ovf', 'ok-disk1.vmdk'])
  refused(out, 'first member')
})

test('a file past the size limits (a 33 GiB sparse log) is refused before anything is written', () => {
  const big = makeUnit(dir, {name: 'big-unit', seed: 'disk-hostile'})
  execFileSync('truncate', ['-s', '33G', join(big, 'mnt/harddisk/log/huge.log')])
  const f = join(dir, 'big.img')
  exportImage(big, f, 'raw', '40G')
  refused(f, 'larger than')
})

test('the base image itself imports (the hostile ones differ from it in one way only)', () => {
  const r = xwayJson(['image', 'import', base, join(dir, 'sound')])
  assert.is(r.code, 0, r.stdout)
  assert.ok(existsSync(join(dir, 'sound/info/product_info.xml')))
})

test.after(() => cleanup())
test.run()
