import {existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {exportImage, fsckAll, sfdisk, sh, sha256File, TEST_DISK} from '../support/disk.js'
import {cleanup, copyUnit, makeUnit, tempDir, unitHash, xwayJson} from '../support/run.js'

const test = suite('disk export and import')
const dir = tempDir('xway-disk-export-')
const unit = makeUnit(dir, {seed: 'disk-export'})
// a unit with what an image must carry faithfully: links, odd modes, a nested tree, an empty folder
const rich = copyUnit(unit)
mkdirSync(join(rich, 'mnt/harddisk/log/nested/deeper'), {recursive: true})
writeFileSync(join(rich, 'mnt/harddisk/log/nested/deeper/app.log'), 'line\n'.repeat(100_000))
symlinkSync('../factory-reset/rk', join(rich, 'mnt/harddisk/log/rk-link'))
symlinkSync('persistent/' + 'x'.repeat(120), join(rich, 'tandberg/long-link'))
mkdirSync(join(rich, 'tandberg/persistent/empty'), {mode: 0o700})
writeFileSync(join(rich, 'tandberg/persistent/secret'), 'k', {mode: 0o600})

test('a raw export is a GPT disk, 1 MiB aligned, with root, tandberg and harddisk partitions that e2fsck finds clean', () => {
  const out = join(dir, 'u.img')
  const r = exportImage(unit, out)
  assert.is(r.format, 'raw')
  assert.is(r.diskSize, 5 * 1024 ** 3)
  assert.is(r.bytes, statSync(out).size)
  assert.ok(statSync(out).blocks * 512 < 64 * 1024 ** 2, 'the raw file is sparse')
  const table = sfdisk(out)
  assert.is(table.label, 'gpt')
  assert.equal(table.partitions.map((p) => p.name), ['root', 'tandberg', 'harddisk'])
  for (const p of table.partitions) {
    assert.is(p.start % 2048, 0, `${p.name} starts on a MiB boundary`)
    assert.is(p.size % 2048, 0, `${p.name} is whole MiB`)
    assert.is(p.type, '0FC63DAF-8483-4772-8E79-3D69D8477DE4')
  }
  for (const [name, fsck] of Object.entries(fsckAll(out))) {
    assert.is(fsck.code, 0, `${name}: ${fsck.output}`)
    assert.match(fsck.output, new RegExp(`^${name}: `, 'm'), `${name} carries its own label`)
  }
  assert.is(r.sha256, sha256File(out))
})

test('each format is byte-for-byte reproducible and checked by qemu-img, tar and xmllint', () => {
  for (const format of ['raw', 'qcow2', 'vmdk', 'ova']) {
    const a = exportImage(rich, join(dir, `a-${format}`, `unit.${format === 'raw' ? 'img' : format}`))
    const b = exportImage(rich, join(dir, `b-${format}`, `unit.${format === 'raw' ? 'img' : format}`))
    assert.is(a.format, format)
    assert.is(a.sha256, b.sha256, `${format} exports of one unit are the same bytes`)
  }
  const q = join(dir, 'a-qcow2/unit.qcow2')
  const info = JSON.parse(sh('qemu-img', ['info', '--output=json', '-f', 'qcow2', q]).stdout)
  assert.is(info.format, 'qcow2')
  assert.is(info['virtual-size'], 5 * 1024 ** 3)
  assert.not.ok(info['backing-filename'])
  assert.is(sh('qemu-img', ['check', '-f', 'qcow2', q]).code, 0)
  const v = join(dir, 'a-vmdk/unit.vmdk')
  const vinfo = JSON.parse(sh('qemu-img', ['info', '--output=json', '-f', 'vmdk', v]).stdout)
  assert.is(vinfo['format-specific'].data['create-type'], 'streamOptimized')
  assert.is(vinfo['virtual-size'], 5 * 1024 ** 3)
  assert.is(sh('qemu-img', ['check', '-f', 'vmdk', v]).code, 0)
  const ova = join(dir, 'a-ova/unit.ova')
  const listing = sh('tar', ['-tvf', ova]).stdout.trim().split('\n').map((l) => l.split(/\s+/).pop())
  assert.equal(listing, ['unit.ovf', 'unit.mf', 'unit-disk1.vmdk'])
  const x = join(dir, 'ova-x')
  mkdirSync(x)
  assert.is(sh('tar', ['-xf', ova, '-C', x]).code, 0)
  const mf = readFileSync(join(x, 'unit.mf'), 'utf8').trim().split('\n')
  assert.is(mf.length, 2)
  for (const line of mf) {
    const m = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line)
    assert.ok(m, line)
    assert.is(sha256File(join(x, m![1])), m![2])
  }
  assert.is(sh('xmllint', ['--noout', join(x, 'unit.ovf')]).code, 0)
  const ovf = readFileSync(join(x, 'unit.ovf'), 'utf8')
  assert.match(ovf, '<Product>Cisco Expressway</Product>')
  assert.match(ovf, '<Vendor>Cisco Systems, Inc.</Vendor>')
  assert.match(ovf, '<Version>X14.2.0</Version>')
  assert.match(ovf, 'Expressway-C')
  assert.match(ovf, '<rasd:VirtualQuantity>2</rasd:VirtualQuantity>')
  assert.match(ovf, '<rasd:VirtualQuantity>6144</rasd:VirtualQuantity>')
  assert.match(ovf, `ovf:capacity="${5 * 1024 ** 3}"`)
  assert.is(sh('qemu-img', ['check', '-f', 'vmdk', join(x, 'unit-disk1.vmdk')]).code, 0)
})

test('import(export(U)) equals U for every format: files, modes, links and contents', () => {
  const want = unitHash(rich)
  for (const [format, file] of [['raw', 'a-raw/unit.img'], ['qcow2', 'a-qcow2/unit.qcow2'], ['vmdk', 'a-vmdk/unit.vmdk'], ['ova', 'a-ova/unit.ova']]) {
    const target = join(dir, `imported-${format}`)
    const r = xwayJson(['image', 'import', join(dir, file), target])
    assert.is(r.code, 0, r.stdout + r.stderr)
    assert.is(r.json.format, format, 'recognised by content')
    assert.is(unitHash(target), want, `${format} round trip`)
  }
})

test('the format comes from the content on import, not the name', () => {
  const misnamed = join(dir, 'misnamed.img')
  writeFileSync(misnamed, readFileSync(join(dir, 'a-qcow2/unit.qcow2')))
  const r = xwayJson(['image', 'import', misnamed, join(dir, 'from-misnamed')])
  assert.is(r.code, 0, r.stdout)
  assert.is(r.json.format, 'qcow2')
})

test('the ova names the product and sizes the VM by PID (a VCS with EXPWY-VE-L-K9)', () => {
  const vcs = copyUnit(unit)
  const info = join(vcs, 'info/product_info.xml')
  writeFileSync(info, readFileSync(info, 'utf8').replace('<brand>Expressway</brand>', '<brand>VCS</brand>').replace(/<pid>[^<]*<\/pid>/, '<pid>EXPWY-VE-L-K9</pid>'))
  exportImage(vcs, join(dir, 'vcs/vcs.ova'))
  const ovf = sh('tar', ['-xOf', join(dir, 'vcs/vcs.ova'), 'vcs.ovf']).stdout
  assert.match(ovf, '<Product>Cisco VCS</Product>')
  assert.match(ovf, '<rasd:VirtualQuantity>8</rasd:VirtualQuantity>')
  assert.match(ovf, '<rasd:VirtualQuantity>8192</rasd:VirtualQuantity>')
})

test('export refuses -o inside the unit, an unknown extension and a tiny disk, writing nothing', () => {
  const inside = xwayJson(['image', 'export', unit, '-o', join(unit, 'mnt/harddisk/disk.img'), '--disk-size', TEST_DISK])
  assert.is(inside.code, 2)
  assert.match(inside.json.error.message, 'inside the unit')
  assert.not.ok(existsSync(join(unit, 'mnt/harddisk/disk.img')))
  const ext = xwayJson(['image', 'export', unit, '-o', join(dir, 'disk.bin')])
  assert.is(ext.code, 2)
  assert.match(ext.json.error.actions.join(' '), '--format')
  const small = xwayJson(['image', 'export', unit, '-o', join(dir, 'small.img'), '--disk-size', '1G'])
  assert.is(small.code, 2)
  assert.not.ok(existsSync(join(dir, 'small.img')))
  assert.equal(readdirSync(dir).filter((n) => n.includes('xway-')), [])
})

test('qcow2, vmdk and ova need qemu-img: without it, exit 1 naming qemu-utils', () => {
  const r = xwayJson(['image', 'export', unit, '-o', join(dir, 'noqemu.qcow2'), '--disk-size', TEST_DISK], {env: {PATH: '/nonexistent'}})
  assert.is(r.code, 1)
  assert.match(r.json.error.message, 'qemu-img')
  assert.match(r.json.error.actions.join(' '), 'qemu-utils')
  assert.not.ok(existsSync(join(dir, 'noqemu.qcow2')))
})

test.after(() => cleanup())
test.run()
