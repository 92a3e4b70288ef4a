import {BadInputError} from '../errors.js'
import type {UnitReader} from './store.js'

export function readJson<T>(files: UnitReader, rel: string, fallback?: T): T {
  const data = files.read(rel)
  if (data === null) {
    if (fallback !== undefined) return fallback
    throw new BadInputError(`${rel} is missing from the unit.`, {actions: ['Run xway image verify on the unit.']})
  }
  try {
    return JSON.parse(data.toString('utf8')) as T
  } catch {
    throw new BadInputError(`${rel} is not valid JSON.`, {actions: ['Run xway image verify on the unit.']})
  }
}

export function readText(files: UnitReader, rel: string): string | null {
  return files.read(rel)?.toString('utf8') ?? null
}
