// What the bench scripts share: where the project is, its compiled modules, --name N arguments,
// and the median (every timing is the median of several runs).
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const bin = join(root, 'bin', 'run.js')

/** A compiled module of the project (npm run build first). */
export const dist = (path) => import(join(root, 'dist', path))

/** The number after --NAME on the command line, or the fallback. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
