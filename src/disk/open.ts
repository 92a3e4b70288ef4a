import {lstatSync, realpathSync} from 'node:fs'
import {openStore as openFolderStore} from '../unit/open-store.js'
import type {UnitStore} from '../unit/store.js'

/**
 * The store of a unit given by path: a folder (src/unit), or a disk image file — raw, qcow2,
 * vmdk or ova, recognised by content (this floor). The image code loads only for image files.
 */
export async function openAnyStore(arg: string): Promise<UnitStore> {
  let isFile = false
  try {
    isFile = lstatSync(realpathSync(arg)).isFile()
  } catch {
    // openFolderStore says what is wrong with the path
  }
  if (!isFile) return openFolderStore(arg)
  const {openDiskStore} = await import('./store.js')
  return openDiskStore(realpathSync(arg))
}
