import {lstatSync, realpathSync, type Stats} from 'node:fs'
import {BadInputError} from '../errors.js'
import {DirectoryStore} from './directory-store.js'
import {parentOf, relParts, UnsafePathError} from './safe-path.js'
import type {UnitReader, UnitStore} from './store.js'
import {TOOL} from './tool-paths.js'

function notAUnit(arg: string, why: string): BadInputError {
  return new BadInputError(`${arg} is not a unit (${why}).`, {actions: ['Build one with: xway image create UNIT --profile FILE']})
}

/**
 * Opens the store of a unit given by path: a folder, or a disk image file. The path itself may be
 * a link the user chose (it is resolved once, here); nothing inside the unit is ever followed.
 */
export async function openStore(arg: string): Promise<UnitStore> {
  let st: Stats
  try {
    st = lstatSync(arg)
    if (st.isSymbolicLink()) st = lstatSync(realpathSync(arg))
  } catch {
    throw notAUnit(arg, 'no such folder or file')
  }
  if (st.isDirectory()) return new DirectoryStore(realpathSync(arg))
  if (st.isFile()) throw notAUnit(arg, 'a file that is not a unit folder')
  throw notAUnit(arg, 'neither a folder nor a file')
}

/**
 * Refuses a unit whose tool folder, or any folder on the way to the given folders, is a symbolic
 * link or not a folder (exit 4, naming the path): such a unit would lead a command outside it.
 */
export function assertRealFolders(reader: UnitReader, folders: readonly string[]): void {
  const seen = new Set<string>()
  for (const folder of [TOOL.dir, ...folders]) {
    let dir = ''
    for (const part of relParts(folder)) {
      dir = dir === '' ? part : `${dir}/${part}`
      if (seen.has(dir)) continue
      seen.add(dir)
      const st = reader.stat(dir)
      if (st === null) break
      if (st.kind === 'symlink') throw new UnsafePathError(dir, 'is a symbolic link where a folder is expected', {target: reader.readlink(dir)})
      if (st.kind !== 'dir') throw new UnsafePathError(dir, 'is not a folder', {actions: [`Remove or rename ${dir} in the unit${parentOf(dir) ? '' : ''}, then run the command again.`]})
    }
  }
}
