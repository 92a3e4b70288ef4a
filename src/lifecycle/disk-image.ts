import {BRAND} from '../areas/brand.js'
import {openUnit} from '../areas/open.js'
import {type ExportOptions, exportUnit, type ExportResult} from '../disk/export.js'
import {importImage, type ImportResult} from '../disk/import.js'

/**
 * `image export`: a unit (folder or image) as a VM disk. The unit is opened like for any command
 * (its folders checked, no pending operation), and its product identity names the disk.
 */
export async function exportImage(unitArg: string, output: string, options: Omit<ExportOptions, 'info'>): Promise<ExportResult> {
  const unit = await openUnit(unitArg)
  try {
    return await exportUnit(unit.store.kind === 'directory' ? unit.path : unit.store, output, {...options, info: unit.info})
  } finally {
    unit.store.close()
  }
}

/** `image import`: a new unit folder from a disk image; an image without a unit's product file is refused. */
export function importImageUnit(file: string, unitArg: string): Promise<ImportResult> {
  return importImage(file, unitArg, {requiredFile: BRAND.productInfo})
}
