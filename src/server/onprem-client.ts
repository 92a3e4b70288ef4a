import {request} from 'node:https'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {errorFor, UnreachableError, type ErrorCode} from '../errors.js'
import {TLS_MIN_VERSION} from '../licensing/transport-security.js'
import {now} from '../clock.js'
import {loadServerFiles, serverStatus, type ServerFiles} from './admin.js'
import {importResponse, syncRequest, type SyncImportResult} from './onprem.js'

// A connected On-Prem's side of the CSSM's /onprem endpoints: HTTPS, the CSSM's certificate
// verified against the cssm-ca.pem kept in the On-Prem's folder.

export const ONPREM_PATHS = {link: '/onprem/link', sync: '/onprem/sync'} as const
const TIMEOUT_MS = 30_000

function post(files: ServerFiles, path: string, body: unknown): Promise<string> {
  const cssm = files.config.onPrem?.cssm
  if (!cssm) throw new UnreachableError('This On-Prem is disconnected (no --cssm): synchronize by files (sync export / answer / import).')
  const url = new URL(path, cssm.url)
  const ca = readFileSync(join(files.dir, cssm.caFile), 'utf8')
  const text = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST', ca, minVersion: TLS_MIN_VERSION, timeout: TIMEOUT_MS,
      headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)},
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const reply = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode === 200) {
          resolve(reply)
          return
        }
        let error: {code?: string; xwayCode?: string; message?: string} = {}
        try {
          error = (JSON.parse(reply) as {error?: typeof error}).error ?? {}
        } catch { /* not JSON */ }
        const code = (error.xwayCode ?? 'failed') as ErrorCode
        reject(errorFor(['failed', 'usage', 'refused', 'bad-input', 'busy', 'unreachable'].includes(code) ? code : 'failed',
          `The CSSM (${url.origin}) refused: ${error.message ?? `HTTP ${res.statusCode}`}`))
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000} s`)))
    req.on('error', (err) => reject(new UnreachableError(`Cannot reach the CSSM at ${url.origin}: ${err.message}`, {
      actions: ['Check that the CSSM runs (`xway license-server start CSSM_DIR`) and that --cssm-ca is its DIR/ca.pem.'],
    })))
    req.end(text)
  })
}

/** Connected `onprem link`: the CSSM says whether the token is one of the virtual account's. */
export async function checkTokenAtCssm(files: ServerFiles, body: {virtualAccount: string; token: string}): Promise<void> {
  await post(files, ONPREM_PATHS.link, body)
}

/** Connected `sync`: export → POST to the CSSM → import, in one step. */
export async function syncNow(dir: string, files: ServerFiles, input: {licenses?: string[]} = {}): Promise<SyncImportResult> {
  const requestFile = await syncRequest(dir, input)
  const response = await post(files, ONPREM_PATHS.sync, requestFile)
  return importResponse(dir, response, 'the CSSM\'s response')
}

/** How often a running connected On-Prem looks whether its synchronization is due. */
export const SYNC_CHECK_MS = 60 * 60 * 1000

/**
 * A running connected On-Prem synchronizes at its interval: a timer (unref'd, one
 * synchronization at a time) checks hourly, and once at start, whether the interval has
 * passed since the last synchronization; one never synchronized does so at once. Failures are written to stderr and
 * retried at the next check. Returns null for a CSSM or a disconnected On-Prem.
 */
export function startSyncTimer(dir: string, options: {checkMs?: number; log?: (line: string) => void} = {}): {stop(): void} | null {
  const files = loadServerFilesSafe(dir)
  if (!files?.config.onPrem?.cssm) return null
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  let running = false
  let stopped = false
  const check = async (): Promise<void> => {
    if (running || stopped) return
    running = true
    try {
      const status = await serverStatus(dir)
      if (status.sync && (status.sync.lastSyncAt === null || Date.parse(status.sync.nextSyncAt) <= now().getTime())) {
        const result = await syncNow(dir, files)
        log(`On-Prem synchronized with its CSSM (request ${result.sequence}): rms ${result.licenses.rms}, room ${result.licenses.room}, desktop ${result.licenses.desktop}`)
      }
    } catch (err) {
      log(`On-Prem synchronization failed: ${(err as Error).message}`)
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => { void check() }, options.checkMs ?? SYNC_CHECK_MS)
  timer.unref()
  void check()
  return {stop: () => { stopped = true; clearInterval(timer) }}
}

function loadServerFilesSafe(dir: string): ServerFiles | null {
  try {
    return loadServerFiles(dir)
  } catch {
    return null
  }
}
