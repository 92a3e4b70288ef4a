import type {Readable} from 'node:stream'

// The unit store seam (DESIGN 7): every command reaches a unit's files through a UnitStore, and
// nothing else. A unit is untrusted input (a VM disk copied from anyone's datastore), so a store
// never follows a symbolic link: a link is reported as a link, and a path that would pass
// through one is refused. Two kinds of store implement this interface: a directory
// (src/unit/directory-store.ts) and a disk image file (src/disk/).

/** What an entry is, seen without following links. `other`: a device, FIFO or socket. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'other'

export interface EntryStat {
  kind: EntryKind
  /** permission bits (mode & 0o7777) */
  mode: number
  /** bytes of a regular file; 0 for anything else */
  size: number
}

export interface WalkEntry {
  /** unit-relative POSIX path */
  rel: string
  stat: EntryStat
}

/**
 * Read access to a unit's committed state. Paths are unit-relative POSIX paths without a leading
 * slash and without `.` or `..` components. Every call refuses (UnsafePathError, exit 4) a path
 * one of whose parent folders is a symbolic link or not a folder; none follows a link.
 */
export interface UnitReader {
  /** lstat: null when absent */
  stat(rel: string): EntryStat | null
  /** the bytes of a regular file; null when absent; refused when the entry is a link, folder or other */
  read(rel: string): Buffer | null
  /** the names in a folder, sorted by code unit; [] when absent; refused when the entry is not a folder */
  list(rel: string): string[]
  /** the target of a symbolic link, as stored (never resolved) */
  readlink(rel: string): string
  /** every entry under rel (not rel itself), depth first, names sorted; '' walks the whole unit */
  walk(rel: string, filter?: (rel: string) => boolean): WalkEntry[]
  /** a regular file's content as a stream (logs, payloads): memory stays flat */
  openRead(rel: string): Readable
}

/** One change of a transaction, applied at commit in the order recorded. */
export type StoreOp =
  /** create or replace a regular file (replaced by one rename: never missing, even for an instant) */
  | {op: 'write'; rel: string; data: Buffer; mode: number}
  /** the same, with the content in a file of the store's scratch folder (streamed, never in memory) */
  | {op: 'write-file'; rel: string; source: string; mode: number}
  /** remove a file, link or whole folder tree (moved aside, never copied) */
  | {op: 'delete'; rel: string}
  /** create a folder (and its missing parents) */
  | {op: 'mkdir'; rel: string; mode: number}
  /** create a symbolic link (its target is stored as given and never followed) */
  | {op: 'symlink'; rel: string; target: string}
  /** append to a file, creating it (the audit log: appended, never rewritten) */
  | {op: 'append'; rel: string; data: Buffer}

/** A held writer lock; release() is idempotent. */
export interface UnitLock {
  release(): void
}

export interface RecoverResult {
  recovered: boolean
  action: 'none' | 'rolled-forward' | 'rolled-back'
  command: string | null
}

export type StoreKind = 'directory' | 'raw' | 'qcow2' | 'vmdk' | 'ova'

/**
 * A unit's storage. One writer at a time (lock); changes are committed atomically (a journal
 * whose creation is the commit point; after a crash, recover() finishes or undoes the commit so
 * that the unit is exactly as before or exactly as after).
 */
export interface UnitStore {
  readonly kind: StoreKind
  /** absolute path of the folder or image file */
  readonly path: string
  /** false for distribution formats (vmdk, ova): changing commands refuse them */
  readonly writable: boolean
  /** the committed state (re-read after each commit) */
  reader(): UnitReader
  /** one writer: throws UnitBusyError (exit 5) while another live process holds it */
  lock(command: string): UnitLock
  /** an interrupted commit awaits `image recover` */
  hasPendingJournal(): boolean
  /** the pending journal's command, when readable */
  pendingCommand(): string | null
  /** the live process holding the writer lock, if any (a pending journal is then its work in progress) */
  liveWriter?(): {pid: number; command: string; since: string} | null
  /** an empty folder on the host for files a transaction streams before commit; removed by discardScratch */
  scratch(): string
  discardScratch(): void
  /** applies ops atomically (call with the lock held) */
  commit(command: string, ops: StoreOp[]): Promise<void>
  /** finishes or rolls back an interrupted commit (call with the lock held) */
  recover(): Promise<RecoverResult>
  /** releases what open() took (temp copies of read-only formats) */
  close(): void
}
