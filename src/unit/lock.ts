import {closeSync, constants, openSync, readFileSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {UnitBusyError} from '../errors.js'
import type {UnitLock} from './store.js'

export interface LockOwner {
  pid: number
  command: string
  since: string
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The owner recorded in a lock file; never follows a link (a planted link reads as no owner). */
function readOwner(path: string): LockOwner | null {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch {
    return null
  }
  try {
    const owner = JSON.parse(readFileSync(fd, 'utf8')) as LockOwner
    return typeof owner?.pid === 'number' ? owner : null
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}

/** O_CREAT|O_EXCL never follows a link: an existing link, like an existing file, is EEXIST. */
function tryCreate(path: string, owner: LockOwner): boolean {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    writeSync(fd, JSON.stringify(owner))
    closeSync(fd)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

/** The live process holding a lock file, if any (a dead owner's lock is stale). */
export function liveLockOwner(path: string): LockOwner | null {
  const owner = readOwner(path)
  return owner && processAlive(owner.pid) ? owner : null
}

export function lockedError(owner: LockOwner): UnitBusyError {
  return new UnitBusyError(`The unit is locked by another xway process (pid ${owner.pid}, ${owner.command}, since ${owner.since}).`, {
    actions: ['Wait for that command to finish, then try again.'],
  })
}

/**
 * One writer per unit. The lock is a file created with O_EXCL; a lock whose process is dead is
 * taken over under a short second lock, so that two processes finding the same stale lock cannot
 * both take it. `path` is the lock file's host path, in a folder the store has checked.
 */
export function acquireLock(path: string, command: string): UnitLock {
  const owner: LockOwner = {pid: process.pid, command, since: new Date().toISOString()}
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, owner)) return release(path)
    const current = readOwner(path)
    if (current && processAlive(current.pid)) throw lockedError(current)
    // stale (dead owner) or unreadable: take it over under the takeover lock
    const takeover = `${path}.takeover`
    const takeoverOwner = readOwner(takeover)
    if (takeoverOwner && !processAlive(takeoverOwner.pid)) {
      try {
        renameSync(takeover, `${takeover}.dead-${process.pid}`)
        unlinkSync(`${takeover}.dead-${process.pid}`)
      } catch {}
    }
    if (!tryCreate(takeover, owner)) continue
    try {
      const again = readOwner(path)
      const stillStale = again === null ? current === null : !processAlive(again.pid) && JSON.stringify(again) === JSON.stringify(current)
      if (stillStale) {
        try {
          unlinkSync(path)
        } catch {}
        if (tryCreate(path, owner)) return release(path)
      }
    } finally {
      try {
        unlinkSync(takeover)
      } catch {}
    }
  }
  throw new UnitBusyError('The unit is locked by another xway process.', {actions: ['Wait for it to finish, then try again.']})
}

function release(path: string): UnitLock {
  let held = true
  return {
    release() {
      if (!held) return
      held = false
      const owner = readOwner(path)
      if (owner && owner.pid !== process.pid) return
      try {
        unlinkSync(path)
      } catch {}
    },
  }
}
