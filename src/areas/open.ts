import {BadInputError} from '../errors.js'
import {openAnyStore as openStore} from '../disk/open.js'
import {assertRealFolders} from '../unit/open-store.js'
import type {RecoverResult, UnitReader, UnitStore} from '../unit/store.js'
import {TOOL} from '../unit/tool-paths.js'
import {assertNoPendingJournal, assertWritable, changeStore, type UnitTransaction} from '../unit/transaction.js'
import {BRAND, parseProductInfo} from './brand.js'
import type {ProductInfo} from '../product.js'
import {structuralFolders} from './registry.js'

/** A unit opened for reading: its store, the committed files, and its product identity. */
export interface Unit {
  /** the path as given */
  arg: string
  /** the absolute path of the folder or image file */
  path: string
  store: UnitStore
  files: UnitReader
  info: ProductInfo
}

function readInfo(arg: string, files: UnitReader): ProductInfo {
  const xml = files.read(BRAND.productInfo)
  if (xml === null) throw new BadInputError(`${arg} is not a unit (${BRAND.productInfo} is missing).`, {actions: ['Build one with: xway image create UNIT --profile FILE']})
  return parseProductInfo(xml.toString('utf8'))
}

/** Reads a unit as it is committed now, refusing one whose folders are links. */
export function unitFromStore(arg: string, store: UnitStore): Unit {
  const files = store.reader()
  assertRealFolders(files, structuralFolders())
  return {arg, path: store.path, store, files, info: readInfo(arg, files)}
}

/**
 * Opens a unit (a folder or a disk image) for reading. Refused: a unit whose tool folder or area
 * folders are links (exit 4), and, unless allowJournal, one with an interrupted operation (exit 5).
 */
export async function openUnit(arg: string, options: {allowJournal?: boolean} = {}): Promise<Unit> {
  const store = await openStore(arg)
  if (!options.allowJournal) assertNoPendingJournal(store, arg)
  return unitFromStore(arg, store)
}

/**
 * The one way to change a unit: lock it, read it under the lock (so a writer that came first is
 * never missed), let `build` record changes (a throw there changes nothing), commit atomically.
 */
export async function changeUnit<T>(target: string | Unit, command: string, build: (tx: UnitTransaction, unit: Unit) => Promise<T> | T): Promise<T> {
  // a folder that is not a unit, or whose folders are links, is refused before the lock is taken in it
  const unit = typeof target === 'string' ? await openUnit(target, {allowJournal: true}) : target
  return changeStore(unit.store, unit.arg, command, (tx) => build(tx, unitFromStore(unit.arg, unit.store)))
}

/**
 * `image recover`: finishes (journal committed) or rolls back (not committed) an interrupted
 * operation. An interrupted operation may have moved product_info.xml aside: a journal or staging
 * left behind is enough to recover; otherwise the path must be a unit.
 */
export async function recoverUnit(arg: string): Promise<RecoverResult> {
  const store = await openStore(arg)
  const files = store.reader()
  if (!store.hasPendingJournal() && files.stat(TOOL.txnDir) === null) unitFromStore(arg, store)
  assertWritable(store, arg)
  const lock = store.lock('image recover')
  try {
    return await store.recover()
  } finally {
    lock.release()
    store.close()
  }
}
