// Runs xway commands inside a worker thread of the test process, as bin/run.js would run them
// (oclif's run() on the built CLI), with stdout, stderr, the exit code, the environment and stdin
// of each run its own. test/support/run.ts calls it synchronously: it posts a request, then waits
// on a shared flag while this thread's own event loop runs the command.
import {Readable} from 'node:stream'
import {parentPort, workerData} from 'node:worker_threads'

const {root, flag, reply} = workerData
const signal = new Int32Array(flag)

let handledExit
// what a run left unhandled: a process would end with it, so the run reports it (and the worker lives on)
let stray = []
process.on('uncaughtException', (error) => stray.push(`uncaught: ${error?.stack ?? error}`))
process.on('unhandledRejection', (error) => stray.push(`unhandled rejection: ${error?.stack ?? error}`))
// a worker that ends for any reason says so at once, rather than leaving the test to wait out its limit
process.on('exit', () => {
  Atomics.store(signal, 0, 2)
  Atomics.notify(signal, 0)
})
// loaded before the first run; a failure to load is the answer to every request
const ready = (async () => {
  const oclif = await import('@oclif/core')
  const handleModule = await import('@oclif/core/handle')
  // oclif's error handler ends the process; here it ends the run
  handleModule.Exit.exit = (code = 0) => {
    handledExit = code
  }
  return {oclif, handle: handleModule.handle}
})()

const realStdout = process.stdout.write
const realStderr = process.stderr.write
const baseEnv = {...process.env}
let config

async function runOne({args, env, input}) {
  const {oclif, handle} = await ready
  let stdout = ''
  let stderr = ''
  const capture = (append) => function (chunk, encoding, callback) {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'))
    const done = typeof encoding === 'function' ? encoding : callback
    if (typeof done === 'function') queueMicrotask(done)
    return true
  }
  process.stdout.write = capture((s) => (stdout += s))
  process.stderr.write = capture((s) => (stderr += s))
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key]
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== null) process.env[key] = String(value)
  const stdin = Readable.from(input === '' ? [] : [input])
  Object.defineProperty(process, 'stdin', {configurable: true, enumerable: true, get: () => stdin})
  process.exitCode = undefined
  handledExit = undefined
  try {
    // one Config for every run, as a process would load it once (it holds no state of a run)
    config ??= await oclif.Config.load(root)
    // no flush(): it waits for stdout to drain, and the captured stdout holds nothing back
    await oclif.run(args, config).catch((error) => handle(error))
  } catch (error) {
    stderr += `${error?.stack ?? error}\n`
    handledExit ??= 1
  } finally {
    process.stdout.write = realStdout
    process.stderr.write = realStderr
  }
  const code = handledExit ?? (typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0))
  process.exitCode = undefined
  for (const key of Object.keys(process.env)) delete process.env[key]
  Object.assign(process.env, baseEnv)
  return {code, stdout, stderr}
}

parentPort.on('message', async (request) => {
  let result
  try {
    result = await runOne(request)
  } catch (error) {
    result = {code: -1, stdout: '', stderr: String(error?.stack ?? error)}
  }
  if (stray.length > 0) {
    result = {...result, code: result.code === 0 ? 1 : result.code, stderr: `${result.stderr}${stray.join('\n')}\n`}
    stray = []
  }
  reply.postMessage(result)
  Atomics.store(signal, 0, 1)
  Atomics.notify(signal, 0)
})
