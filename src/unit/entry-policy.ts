import {posix} from 'node:path'

// What a unit may hold, decided in one place for `image pack` (reading a unit's tree) and
// `image unpack` (reading an archive): the same entry is refused by both, with the same words.
// A unit's folders are real folders: nothing is ever written through a link, and every link must
// stay inside the unit when resolved against the real folders and earlier links it passes through.

/** An entry as pack sees it on disk, or unpack in an archive header. */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'socket' | 'unsupported'

export const UNIT_ENTRY_RULE = 'a unit holds only real folders, regular files and links that stay inside it'

/** The refusal of one entry, in the words both pack and unpack use. */
export function entryRefusal(rel: string, what: string): string {
  return `The entry "${rel}" ${what}: refused, since ${UNIT_ENTRY_RULE}.`
}

const TYPE_REFUSALS: Partial<Record<EntryType, string>> = {
  hardlink: 'is a hard link',
  device: 'is a device',
  fifo: 'is a FIFO',
  socket: 'is a socket',
}

/** Links followed while resolving one path, as the kernel allows (Linux: 40). */
export const MAX_LINK_HOPS = 40

type Node = {kind: 'dir' | 'file'} | {kind: 'symlink'; target: string}

const LEAVES = Symbol('leaves')
const LOOPS = Symbol('loops')
type Resolution = string[] | typeof LEAVES | typeof LOOPS

/**
 * The tree of a unit as it is admitted, entry by entry (archive order for unpack, walk order for
 * pack). It knows every entry it admitted, so it resolves links exactly as the kernel would in the
 * finished tree, with no realpath: the tree under an unpack's staging root is only what was
 * admitted. Paths are relative POSIX paths, already free of "." and ".." components.
 */
export class UnitTreePolicy {
  private readonly nodes = new Map<string, Node>()
  private readonly links: string[] = []
  /** the last parent folder found to be a chain of real folders (most entries share it) */
  private lastParent = ''

  constructor(private readonly refuse: (message: string) => Error) {}

  /**
   * Admits one entry or throws the refusal. Returns the parent folders that do not exist yet,
   * outermost first: an unpack creates them as plain folders.
   */
  admit(rel: string, type: EntryType, linkTarget = '', detail = ''): string[] {
    const refused = TYPE_REFUSALS[type]
    if (refused) throw this.refuse(entryRefusal(rel, refused))
    if (type === 'unsupported') throw this.refuse(entryRefusal(rel, `is of a type no unit holds${detail ? ` (${detail})` : ''}`))
    if (this.nodes.has(rel)) {
      if (type === 'dir' && this.nodes.get(rel)!.kind === 'dir') return []
      throw this.refuse(entryRefusal(rel, 'appears twice'))
    }
    const parent = posix.dirname(rel)
    const missing: string[] = []
    let through: {rel: string; kind: 'symlink' | 'file'} | null = null
    if (parent !== '.' && parent !== this.lastParent) {
      let prefix = ''
      for (const part of parent.split('/')) {
        prefix = prefix ? `${prefix}/${part}` : part
        const node = this.nodes.get(prefix)
        if (!node) missing.push(prefix)
        else if (node.kind !== 'dir' && !through) through = {rel: prefix, kind: node.kind}
      }
    }
    if (type === 'symlink') {
      if (linkTarget === '') throw this.refuse(entryRefusal(rel, 'is a link with an empty target'))
      this.checkLink(rel, linkTarget)
    }
    if (through) throw this.refuse(entryRefusal(rel, `lies under a ${through.kind === 'symlink' ? 'link' : 'file'} ("${through.rel}")`))
    for (const dir of missing) this.nodes.set(dir, {kind: 'dir'})
    if (parent !== '.') this.lastParent = parent
    if (type === 'symlink') {
      this.nodes.set(rel, {kind: 'symlink', target: linkTarget})
      this.links.push(rel)
    } else {
      this.nodes.set(rel, {kind: type === 'dir' ? 'dir' : 'file'})
    }
    return missing
  }

  /**
   * Once every entry is in: resolves every link again in the finished tree, since a later link
   * can change where an earlier one leads (`c -> q/..` admitted while q did not exist, then
   * `q -> a/b` with `a/b -> ..`).
   */
  finish(): void {
    for (const rel of this.links) {
      const node = this.nodes.get(rel) as {kind: 'symlink'; target: string}
      this.checkLink(rel, node.target)
    }
  }

  private checkLink(rel: string, target: string): void {
    if (target.startsWith('/')) throw this.refuse(entryRefusal(rel, `is a link leaving the unit (-> ${target}, an absolute target)`))
    const budget = {hops: 0}
    // where the link really lands: its parent as the kernel resolves it, earlier links included
    const parent = posix.dirname(rel)
    const landing = parent === '.' ? [] : this.resolve([], parent, budget)
    const resolved = Array.isArray(landing) ? this.resolve(landing, target, budget) : landing
    if (resolved === LEAVES) throw this.refuse(entryRefusal(rel, `is a link leaving the unit (-> ${target})`))
    if (resolved === LOOPS) throw this.refuse(entryRefusal(rel, `is a link that does not resolve within ${MAX_LINK_HOPS} links (-> ${target})`))
  }

  /** Resolves path from the folder `from` (components under the root), following admitted links. */
  private resolve(from: string[], path: string, budget: {hops: number}): Resolution {
    let stack = from.slice()
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue
      if (part === '..') {
        if (stack.length === 0) return LEAVES
        stack.pop()
        continue
      }
      stack.push(part)
      const node = this.nodes.get(stack.join('/'))
      if (node?.kind !== 'symlink') continue
      if (++budget.hops > MAX_LINK_HOPS) return LOOPS
      stack.pop()
      if (node.target.startsWith('/')) return LEAVES
      const next = this.resolve(stack, node.target, budget)
      if (!Array.isArray(next)) return next
      stack = next
    }
    return stack
  }
}
