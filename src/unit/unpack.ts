import {createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {BadInputError, FailedError, RefusedError, XwayError} from '../errors.js'
import {fsyncPath} from './fsutil.js'
import {TOOL} from './tool-paths.js'
import {extractTarGz} from './tar.js'

export interface UnpackResult {
  file: string
  unit: string
  files: number
  bytes: number
}

/** The staging folder of an unpack, beside the new unit: `.NAME.xway-unpack-PID`. */
export function stagingFolder(target: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}.xway-unpack-${pid}`)
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

function checkTarget(unitArg: string, target: string): boolean {
  let stat
  try {
    stat = lstatSync(target)
  } catch {
    return false
  }
  const actions = ['Choose a new path (or an empty folder) for the unit.']
  if (stat.isSymbolicLink()) throw new RefusedError(`${unitArg} is a symbolic link: unpack builds new units only, in real folders.`, {actions})
  if (!stat.isDirectory()) throw new RefusedError(`${unitArg} exists and is not a folder: unpack builds new units only.`, {actions})
  if (readdirSync(target).length > 0) throw new RefusedError(`${unitArg} exists and is not empty: unpack builds new units only.`, {actions})
  return true
}

/**
 * `image unpack`: extracts into a staging folder beside the unit under the unit entry policy (the
 * one `image pack` applies), and renames only a complete, sound unit into place. Interrupted by
 * SIGINT or SIGTERM, it removes the staging folder and throws (exit 1): the unit is not created.
 */
export async function unpackUnit(file: string, unitArg: string, options: {requiredFile?: string} = {}): Promise<UnpackResult> {
  if (!existsSync(file)) throw new BadInputError(`${file} does not exist.`, {actions: ['Give the path of an archive made by `xway image pack`.']})
  if (!statSync(file).isFile()) throw new BadInputError(`${file} is not a file.`, {actions: ['Give the path of an archive made by `xway image pack`.']})
  const target = resolve(unitArg)
  const emptyDirExists = checkTarget(unitArg, target)
  mkdirSync(dirname(target), {recursive: true})
  const staging = stagingFolder(target)
  rmSync(staging, {recursive: true, force: true})
  mkdirSync(staging)

  const interrupt = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupt.abort(new FailedError(`image unpack was interrupted (${signal}): ${unitArg} was not created, and the partial copy was removed.`, {actions: ['Run the unpack again.']}))
  }
  for (const s of SIGNALS) process.on(s, onSignal)
  try {
    let entries
    try {
      entries = await extractTarGz(createReadStream(file, {highWaterMark: 1 << 20}), staging, {signal: interrupt.signal})
    } catch (error) {
      if (error instanceof XwayError) throw error
      throw new BadInputError(`${file} is not a readable .tar.gz archive (${(error as Error).message}).`, {actions: ['Use an archive made by `xway image pack`.']})
    }
    const required = options.requiredFile
    if (required && !existsSync(join(staging, required))) throw new BadInputError(`${file} does not hold a unit (${required} is missing).`, {actions: ['Use an archive made by `xway image pack`.']})
    for (const rel of [TOOL.lock, TOOL.journal]) rmSync(join(staging, rel), {force: true, recursive: true})
    interrupt.signal.throwIfAborted()
    if (emptyDirExists) rmdirSync(target)
    renameSync(staging, target)
    fsyncPath(dirname(target))
    const files = entries.filter((e) => e.kind === 'file')
    return {file, unit: unitArg, files: files.length, bytes: files.reduce((n, e) => n + e.size, 0)}
  } catch (error) {
    rmSync(staging, {recursive: true, force: true})
    throw error
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal)
  }
}
