import {areaOf, type AreaName} from '../areas/registry.js'
import {openUnit} from '../areas/open.js'
import type {UnitReader} from '../unit/store.js'
import {isTransient} from '../unit/tool-paths.js'

export interface DiffResult {
  a: string
  b: string
  identical: boolean
  areas: AreaName[]
  files: Array<{path: string; area: AreaName | null; change: 'added' | 'removed' | 'changed'}>
}

/** `image diff`: the areas and files that differ between two units (B relative to A). */
export async function diffUnits(aArg: string, bArg: string): Promise<DiffResult> {
  const a = (await openUnit(aArg)).files
  const b = (await openUnit(bArg)).files
  const list = (files: typeof a) => new Map(files.walk('', (rel) => !isTransient(rel)).filter((e) => e.stat.kind !== 'dir').map((e) => [e.rel, e.stat]))
  const la = list(a)
  const lb = list(b)
  const files: DiffResult['files'] = []
  for (const [rel, sa] of la) {
    const sb = lb.get(rel)
    if (!sb) files.push({path: rel, area: areaOf(rel), change: 'removed'})
    else if (sa.kind !== sb.kind || sa.size !== sb.size || sa.mode !== sb.mode || !sameContent(a, b, rel, sa.kind)) {
      files.push({path: rel, area: areaOf(rel), change: 'changed'})
    }
  }
  for (const rel of lb.keys()) if (!la.has(rel)) files.push({path: rel, area: areaOf(rel), change: 'added'})
  files.sort((x, y) => x.path.localeCompare(y.path))
  const areas = [...new Set(files.map((f) => f.area).filter((x): x is AreaName => x !== null))]
  return {a: aArg, b: bArg, identical: files.length === 0, areas, files}
}

function sameContent(a: UnitReader, b: UnitReader, rel: string, kind: string): boolean {
  if (kind === 'symlink') return a.readlink(rel) === b.readlink(rel)
  if (kind !== 'file') return true
  return a.read(rel)!.equals(b.read(rel)!)
}
