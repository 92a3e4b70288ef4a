/** The tool's own files in a unit folder (SPEC 2: var/lib/xway/). */
export const TOOL = {
  dir: 'var/lib/xway',
  lock: 'var/lib/xway/lock',
  journal: 'var/lib/xway/journal',
  txnDir: 'var/lib/xway/txn',
  /** what committed deletes left behind, being removed in the background (transient) */
  trashDir: 'var/lib/xway/trash',
  audit: 'var/lib/xway/audit.jsonl',
} as const

/** What `image pack`, exports and tree hashes leave out: the tool's transient state, never part of a unit's identity. */
export function isTransient(rel: string): boolean {
  return rel === TOOL.lock || rel === TOOL.journal || rel === TOOL.txnDir || rel === TOOL.trashDir ||
    rel.startsWith(`${TOOL.txnDir}/`) || rel.startsWith(`${TOOL.trashDir}/`) || rel.startsWith(`${TOOL.journal}.`) || rel.startsWith(`${TOOL.lock}.`)
}
