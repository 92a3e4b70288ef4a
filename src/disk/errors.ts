import {BadInputError, type XwayErrorOptions} from '../errors.js'

/** A path that passes through a link or a non-folder, or is not a clean unit-relative path (exit 4). */
export class UnsafePathError extends BadInputError {
  constructor(message: string, options?: XwayErrorOptions) {
    super(message, options ?? {actions: ['Give a unit-relative path whose folders are real folders (a disk image store never follows a link).']})
  }
}

/** A disk image that is malformed or hostile: refused as bad input (exit 4), never a crash. */
export function corrupt(where: string, what: string): BadInputError {
  return new BadInputError(`${where}: ${what}; refused.`, {
    actions: ['Use an image written by `xway image export` (or check the file with e2fsck / qemu-img check).'],
  })
}
