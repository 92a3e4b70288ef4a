import {existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {BadInputError, FailedError, RefusedError} from '../errors.js'
import {fsyncPath} from '../unit/fsutil.js'
import {type ImageFormat, openImage} from './image.js'
import {checkTree, writeTree} from './tree.js'

export interface ImportResult {
  file: string
  format: ImageFormat
  unit: string
  files: number
  bytes: number
}

/**
 * `image import`: a new unit folder from a raw, qcow2, vmdk or ova image (recognised by content).
 * Everything is checked before anything is written (GPT, partitions, filesystems, entries, links,
 * limits), the unit is written into a temporary sibling and renamed into place; a failure or
 * SIGINT/SIGTERM removes it.
 */
export async function importImage(file: string, unitArg: string, options: {requiredFile?: string} = {}): Promise<ImportResult> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new BadInputError(`${file} is not a file.`, {actions: ['Give the path of a disk image (.img, .qcow2, .vmdk or .ova).']})
  const target = resolve(unitArg)
  let emptyDirExists = false
  if (existsSync(target)) {
    if (!statSync(target).isDirectory() || readdirSync(target).length > 0) throw new RefusedError(`${unitArg} exists and is not empty: import builds new units only.`, {actions: ['Choose a new path.']})
    emptyDirExists = true
  }
  const image = openImage(file)
  let tmp: string | null = null
  let interrupted = false
  const onSignal = (): void => {
    interrupted = true
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const tree = checkTree(image.reader, basename(file))
    const required = options.requiredFile
    if (required && !tree.entries.some((e) => e.rel === required && e.stat.kind === 'file')) throw new BadInputError(`${file} does not hold a unit (${required} is missing).`)
    mkdirSync(dirname(target), {recursive: true})
    tmp = join(dirname(target), `.${basename(target)}.xway-import-${process.pid}`)
    rmSync(tmp, {recursive: true, force: true})
    mkdirSync(tmp, {mode: 0o755})
    await writeTree(image.reader, tree, tmp, () => interrupted)
    if (interrupted) throw new FailedError('Interrupted; nothing was kept.')
    if (emptyDirExists) rmdirSync(target)
    renameSync(tmp, target)
    tmp = null
    fsyncPath(dirname(target))
    return {file, format: image.format, unit: unitArg, files: tree.files, bytes: tree.bytes}
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    if (tmp) rmSync(tmp, {recursive: true, force: true})
    image.close()
  }
}
