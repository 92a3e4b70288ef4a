// A worker thread of `lab up`: builds units handed to it, so that key generation runs on every core.
import {parentPort} from 'node:worker_threads'
import type {Profile} from '../profile/load.js'
import {createUnit} from './create.js'

interface Job {
  id: number
  unit: string
  profile: Profile
  seed: string
  now: string
}

parentPort!.on('message', async (job: Job) => {
  try {
    const result = await createUnit(job.unit, job.profile, {seed: job.seed, now: new Date(job.now)})
    parentPort!.postMessage({id: job.id, result})
  } catch (error) {
    const e = error as {message?: string; code?: string; actions?: string[]}
    parentPort!.postMessage({id: job.id, error: {message: e.message ?? String(error), code: e.code ?? 'failed', actions: e.actions ?? []}})
  }
})
