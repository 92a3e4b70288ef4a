import {BadInputError, type XwayErrorOptions} from '../errors.js'
import {UnsafePathError as UnitPathError} from '../unit/safe-path.js'

/** A path that passes through a link or a non-folder, or is not a clean unit-relative path (exit 4): the store seam's error, worded for images. */
export class UnsafePathError extends UnitPathError {
  constructor(message: string, options?: XwayErrorOptions) {
    super('', '', {actions: options?.actions ?? ['Give a unit-relative path whose folders are real folders (a disk image store never follows a link).', 'xway image verify UNIT lists every such link.']})
    this.message = message
  }
}

/** A disk image that is malformed or hostile: refused as bad input (exit 4), never a crash. */
export function corrupt(where: string, what: string): BadInputError {
  return new BadInputError(`${where}: ${what}; refused.`, {
    actions: ['Use an image written by `xway image export` (or check the file with e2fsck / qemu-img check).'],
  })
}
