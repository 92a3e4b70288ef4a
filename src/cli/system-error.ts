import type {ErrorCode} from '../errors.js'

/** What describeError makes of an error: SPEC 6's error object. */
export interface DescribedError {
  code: ErrorCode
  message: string
  actions: string[]
  data?: unknown
}

/** The fields Node puts on a failed system call (fs, child_process, net). */
interface SystemErrorLike {
  code?: unknown
  syscall?: unknown
  path?: unknown
  dest?: unknown
  address?: unknown
  port?: unknown
  name?: unknown
}

/** What a failed system call was trying to do, as words: "Cannot <verb> <path>". */
const VERBS: Record<string, string> = {
  open: 'open', read: 'read', write: 'write to', close: 'close', mkdir: 'create the folder', mkdtemp: 'create a temporary folder at',
  rmdir: 'remove the folder', rm: 'remove', unlink: 'delete', rename: 'move', scandir: 'list the folder', opendir: 'list the folder',
  stat: 'reach', lstat: 'reach', fstat: 'reach', access: 'reach', copyfile: 'copy', cp: 'copy', symlink: 'make a link at', link: 'make a link at',
  readlink: 'read the link', realpath: 'resolve', chmod: 'change the mode of', fchmod: 'change the mode of', chown: 'change the owner of',
  utime: 'set the times of', futime: 'set the times of', lutime: 'set the times of', fsync: 'flush', fdatasync: 'flush',
  ftruncate: 'truncate', truncate: 'truncate', watch: 'watch', connect: 'connect to', listen: 'listen on', bind: 'listen on',
  getaddrinfo: 'resolve the host name', spawn: 'run', spawnSync: 'run',
}

interface Meaning {
  code: ErrorCode
  /** what happened, after "Cannot <verb> <path>: " */
  what: string
  /** what to do */
  action: (path: string) => string
}

const MEANINGS: Record<string, Meaning> = {
  ENOENT: {code: 'bad-input', what: 'no such file or folder', action: () => 'Check the path, and that the folder it names exists.'},
  ENOTDIR: {code: 'bad-input', what: 'a part of the path is a file, not a folder', action: () => 'Check the path: every part before the last one must be a folder.'},
  EISDIR: {code: 'bad-input', what: 'it is a folder, where a file was expected', action: () => 'Give the path of a file, not of a folder.'},
  EEXIST: {code: 'bad-input', what: 'something already exists there', action: (p) => `Choose another path, or move ${p} out of the way first.`},
  ENOTEMPTY: {code: 'bad-input', what: 'the folder is not empty', action: (p) => `Choose an empty or new folder, or empty ${p} first.`},
  ENAMETOOLONG: {code: 'bad-input', what: 'the path is too long for the file system', action: () => 'Use a shorter path.'},
  ELOOP: {code: 'bad-input', what: 'it leads through a symbolic link that is not followed (or a loop of links)', action: () => 'Give a path without symbolic links.'},
  EACCES: {code: 'failed', what: 'permission denied', action: (p) => `Check the permissions of ${p} and of its folders, or run as a user who may use it.`},
  EPERM: {code: 'failed', what: 'the operation is not permitted', action: (p) => `Check the permissions and attributes of ${p} (read-only, immutable, owned by another user), or run as a user who may change it.`},
  EROFS: {code: 'failed', what: 'the file system is read-only', action: () => 'Work on a copy on a writable file system.'},
  ENOSPC: {code: 'failed', what: 'no space left on the device', action: () => 'Free some space on that file system (or choose another), then run again; nothing half-written is kept.'},
  EDQUOT: {code: 'failed', what: 'the disk quota is used up', action: () => 'Free some space within the quota, then run again.'},
  EFBIG: {code: 'failed', what: 'the file is too large for the file system', action: () => 'Choose a file system that holds large files.'},
  EMFILE: {code: 'failed', what: 'too many files are open in this process', action: () => 'Raise the limit of open files (ulimit -n), then run again.'},
  ENFILE: {code: 'failed', what: 'too many files are open on the system', action: () => 'Close other programs or raise the system\'s limit of open files, then run again.'},
  EBUSY: {code: 'failed', what: 'it is busy (in use by the system or another program)', action: () => 'Wait for the other program to finish, then run again.'},
  ETXTBSY: {code: 'failed', what: 'it is busy (a running program)', action: () => 'Wait for the program to finish, then run again.'},
  EXDEV: {code: 'failed', what: 'it cannot be moved across file systems', action: () => 'Keep the files on one file system.'},
  EIO: {code: 'failed', what: 'an input/output error on the device', action: () => 'Check the disk (dmesg, fsck), then run again.'},
  ENXIO: {code: 'failed', what: 'no such device', action: () => 'Check the path: it names a device that is not there.'},
  ECONNREFUSED: {code: 'unreachable', what: 'the connection was refused (nothing listens there)', action: () => 'Check the host and port, and that the server is running.'},
  ECONNRESET: {code: 'unreachable', what: 'the connection was reset by the other side', action: () => 'Check the server and the network between, then run again.'},
  ETIMEDOUT: {code: 'unreachable', what: 'the connection timed out', action: () => 'Check the host, the port and the network between, then run again.'},
  EHOSTUNREACH: {code: 'unreachable', what: 'the host cannot be reached', action: () => 'Check the address and the network route.'},
  ENETUNREACH: {code: 'unreachable', what: 'the network cannot be reached', action: () => 'Check the address and the network route.'},
  ENOTFOUND: {code: 'unreachable', what: 'the host name does not resolve', action: () => 'Check the host name and the DNS configuration.'},
  EAI_AGAIN: {code: 'unreachable', what: 'the host name could not be resolved now (DNS did not answer)', action: () => 'Check the DNS configuration, then run again.'},
  EADDRINUSE: {code: 'failed', what: 'the address is already in use', action: () => 'Choose another port, or stop the program that uses it.'},
  EADDRNOTAVAIL: {code: 'failed', what: 'the address is not one of this machine', action: () => 'Choose an address of this machine (127.0.0.1 for loopback).'},
  EPIPE: {code: 'failed', what: 'the other end was closed', action: () => 'Check that the program reading the output keeps running.'},
}

/** A prompt ended by the user: Ctrl+C at a question (readline, @inquirer prompts) or an aborted signal. */
function isCancelled(e: SystemErrorLike): boolean {
  return e.code === 'ABORT_ERR' || e.name === 'AbortError' || e.name === 'ExitPromptError' || e.name === 'AbortPromptError'
}

const CANCELLED: DescribedError = {
  code: 'failed',
  message: 'Cancelled at the prompt (Ctrl+C): nothing was changed.',
  actions: ['Run the command again to start over; flags answer its questions without a prompt (see --help).'],
}

/**
 * Node's system errors (by `code`) as a sentence that says what happened to which path and what
 * to do, never the raw "ENOENT: no such file or directory, open …"; an aborted prompt as
 * cancelled. Undefined for anything else.
 */
export function describeSystemError(err: unknown): DescribedError | undefined {
  if (err === null || typeof err !== 'object') return undefined
  const e = err as SystemErrorLike
  if (isCancelled(e)) return CANCELLED
  if (typeof e.code !== 'string') return undefined
  const meaning = MEANINGS[e.code]
  if (!meaning) return undefined
  const syscall = typeof e.syscall === 'string' ? e.syscall : ''
  const verb = VERBS[syscall.split(' ')[0]!] ?? (syscall ? `${syscall}` : 'use')
  // a spawn error's syscall is "spawn /path/to/program"
  const path = typeof e.path === 'string' ? e.path : syscall.startsWith('spawn ') ? syscall.slice(syscall.indexOf(' ') + 1) : undefined
  const dest = typeof e.dest === 'string' ? e.dest : undefined
  const where = path !== undefined
    ? `${path}${dest !== undefined ? ` to ${dest}` : ''}`
    : typeof e.address === 'string' ? `${e.address}${typeof e.port === 'number' ? `:${e.port}` : ''}` : ''
  // read(2), write(2) and the like fail on an open file, whose path Node does not give
  const subject = where !== '' ? `Cannot ${verb} ${where}` : VERBS[syscall] ? `Cannot ${verb} a file` : 'Cannot complete the operation'
  return {code: meaning.code, message: `${subject}: ${meaning.what}.`, actions: [meaning.action(where === '' ? 'the path given' : path ?? where)]}
}

/** The system error codes describeSystemError knows (for tests and documentation). */
export const SYSTEM_ERROR_CODES = Object.keys(MEANINGS)

/** Why a system call failed, in words ("no such file or folder"); undefined for other errors. */
export function systemReason(err: unknown): string | undefined {
  const code = (err as SystemErrorLike | null)?.code
  return typeof code === 'string' ? MEANINGS[code]?.what : undefined
}

/** Node's own text of a system error, as a library may have quoted it: `EISDIR: illegal operation on a directory, read`. */
const NODE_TEXT = /\b([A-Z][A-Z0-9_]{2,}): [^,()\n]*?(?:, ([a-z_]+)(?: '([^'\n]*)'(?: -> '([^'\n]*)')?)?)?(?=[)\n.;]|$)/g
const BARE_CODE = /\b(E[A-Z0-9]{2,}|ABORT_ERR)\b/g

/**
 * A message with any quoted system error told in words, so that no errno code reaches a user
 * even when a library put Node's text into its own message: "x is not a readable archive
 * (EISDIR: illegal operation on a directory, read)" → "(it is a folder, where a file was expected)".
 */
export function inWords(message: string): string {
  return message
    .replace(NODE_TEXT, (whole, code: string, _syscall: string | undefined, path: string | undefined, dest: string | undefined) => {
      const what = MEANINGS[code]?.what
      if (!what) return whole
      const where = path === undefined || message.includes(`${path} `) || message.startsWith(path) ? '' : `: ${path}${dest ? ` to ${dest}` : ''}`
      return `${what}${where}`
    })
    .replace(BARE_CODE, (code: string) => (code === 'ABORT_ERR' ? 'cancelled' : MEANINGS[code]?.what ?? code))
}
