import {BadInputError} from '../errors.js'

/**
 * A path inside a unit that xway refuses to use: a folder on the way is a symbolic link (or not a
 * folder), or the entry itself is a link where a file is expected. A unit is untrusted input, and a
 * link is never followed (SPEC 7): exit 4, naming the path and what to do.
 */
export class UnsafePathError extends BadInputError {
  constructor(readonly rel: string, what: string, options: {target?: string; actions?: string[]} = {}) {
    const target = options.target === undefined ? '' : ` (-> ${options.target})`
    super(`${rel} ${what}${target}: xway never follows links in a unit, so it does not use this path.`, {
      actions: options.actions ?? [
        `Replace ${rel} with the real ${what.includes('file') ? 'file' : 'folder'} it stands for (or restore the unit from a backup), then run the command again.`,
        'xway image verify UNIT lists every such link.',
      ],
    })
    this.name = 'UnsafePathError'
  }
}

/**
 * Checks that rel is a unit-relative POSIX path (no leading slash, no empty, `.` or `..`
 * components, no NUL) and returns its components. '' is the unit's root.
 */
export function relParts(rel: string): string[] {
  if (rel === '') return []
  if (rel.startsWith('/') || rel.includes('\0')) throw new BadInputError(`Not a path inside a unit: ${JSON.stringify(rel)}.`)
  const parts = rel.split('/')
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') throw new BadInputError(`Not a path inside a unit: ${JSON.stringify(rel)}.`)
  }
  return parts
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/')
  return i === -1 ? '' : rel.slice(0, i)
}

export function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`
}

/** True when rel is base or lies under it. */
export function isUnder(rel: string, base: string): boolean {
  return base === '' || rel === base || rel.startsWith(`${base}/`)
}

/**
 * Where a symbolic link at `rel` with `target` lands, as a unit-relative path, or null when it
 * leaves the unit (an absolute target, or one that climbs above the root). Resolution is lexical
 * from the link's own folder, which is the real folder it is in: a store never lets a path pass
 * through a link, so the folders leading to it are real.
 */
export function linkLandsAt(rel: string, target: string): string | null {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return null
  const stack = relParts(parentOf(rel))
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (stack.length === 0) return null
      stack.pop()
    } else stack.push(part)
  }
  return stack.join('/')
}

/**
 * Where a symbolic link at `rel` really lands, following the chain of links it leads through
 * (each resolved from its own folder), as a unit-relative path; `leaves` when the chain leaves the
 * unit or is absolute, `loop` when it does not end within 40 links. Only for reporting: no command
 * ever follows a link.
 */
export function resolveLinkChain(stat: (rel: string) => {kind: string} | null, readlink: (rel: string) => string, rel: string): string | 'leaves' | 'loop' {
  let hops = 0
  let target = readlink(rel)
  if (target.startsWith('/')) return 'leaves'
  const done = relParts(parentOf(rel))
  let queue = target.split('/')
  while (queue.length > 0) {
    const part = queue.shift()!
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (done.length === 0) return 'leaves'
      done.pop()
      continue
    }
    const here = [...done, part].join('/')
    const st = stat(here)
    if (st?.kind === 'symlink') {
      if (++hops > 40) return 'loop'
      target = readlink(here)
      if (target.startsWith('/')) return 'leaves'
      queue = [...target.split('/'), ...queue]
      continue
    }
    done.push(part)
    if (st === null || st.kind !== 'dir') {
      // a missing or non-folder component: the rest resolves lexically
      for (const rest of queue) {
        if (rest === '' || rest === '.') continue
        if (rest === '..') {
          if (done.length === 0) return 'leaves'
          done.pop()
        } else done.push(rest)
      }
      queue = []
    }
  }
  return done.join('/')
}
