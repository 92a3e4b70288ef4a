import {Args, Flags} from '@oclif/core'
import {startSyncTimer} from '../../src/server/onprem-client.js'
import {XwayCommand} from '../../src/cli/base.js'
import {startLicenseServerCluster} from '../../src/server/cluster.js'
import {startLicenseServer} from '../../src/server/http.js'

export interface StartResult {
  url: string
  workers: number
  requests: number
  errors: number
  /** with --workers: the requests each worker answered (those that stopped cleanly) */
  requestsByWorker: number[]
}

export default class LicenseServerStart extends XwayCommand<StartResult> {
  static override description = 'Serve a license server folder over HTTPS (agents POST to /SmartTransport) until Ctrl+C or SIGTERM.\n' +
    'Applies the database migrations an older folder lacks first. With --workers N, N processes serve the one port.\n' +
    'When ready it prints "listening on https://HOST:PORT/SmartTransport" (on stderr under --json, where stdout carries only the final result).'

  static override examples = [
    '<%= config.bin %> license-server start ./lab/server',
    '<%= config.bin %> license-server start ./lab/server --host 0.0.0.0 --port 9443',
    '<%= config.bin %> license-server start ./lab/server --port 0    # a free port, printed when ready',
    '<%= config.bin %> license-server start ./lab/server --workers 2   # two processes on one port (PostgreSQL or SQLite)',
  ]

  static override args = {dir: Args.string({required: true, description: 'folder made by `license-server init`'})}
  static override flags = {
    host: Flags.string({description: 'address to listen on', default: '127.0.0.1'}),
    port: Flags.integer({description: 'TCP port (0: any free port)', default: 8443, min: 0, max: 65535}),
    workers: Flags.integer({description: 'processes serving the port', default: 1, min: 1, max: 64}),
  }

  async run(): Promise<StartResult> {
    const {args, flags} = await this.parse(LicenseServerStart)
    const options = {host: flags.host, port: flags.port}
    const server = flags.workers > 1
      ? await startLicenseServerCluster(args.dir, {...options, workers: flags.workers})
      : await startLicenseServer(args.dir, options)
    // a connected On-Prem synchronizes with its CSSM at its interval while it runs
    const syncTimer = startSyncTimer(args.dir)
    const ready = `listening on ${server.url}\n`
    if (this.jsonEnabled()) process.stderr.write(ready)
    else process.stdout.write(ready)
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolve()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    syncTimer?.stop()
    await server.close()
    this.say('stopped')
    const {requests, errors, byWorker} = server.stats
    return {url: server.url, workers: flags.workers, requests, errors, requestsByWorker: byWorker ?? [requests]}
  }
}
