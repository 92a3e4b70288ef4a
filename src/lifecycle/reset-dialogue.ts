import type {AreaName, ResetSeries} from '../areas/area.js'
import {area as areaByName, AREAS, LEGACY_QUESTION_ORDER, X142_QUESTION_ORDER} from '../areas/registry.js'
import {RefusedError} from '../errors.js'
import {isX142Expressway, type ProductInfo} from '../product.js'

// The factory reset's dialogue (reference/expressway-facts.md, "Factory reset"; the seed): the
// banner, the questions of the unit's series in order and wording (from the area registry), and
// the rules on the answers.


/** What the appliance prints before its questions, line by line. */
export const RESET_WARNING_LINES: readonly string[] = [
  '*'.repeat(61),
  'Warning! This operation resets the unit to factory default settings!',
  '*'.repeat(61),
  '',
  'To cancel operation before final confirmation press Ctrl+C',
]
export const RESET_CONFIRM_PROMPT = 'Are you sure you want to continue [YES/NO]?'

/** Keep answers, per area: true = keep (YES, or its flag); missing or false = not kept. */
export type KeepAnswers = Partial<Record<AreaName, boolean>>

/** x14.2-expressway: the -v/-t dialogue; legacy: VCS ("unchanged") and Expressway before X14.2. */
export type {ResetSeries}

export function resetSeries(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>): ResetSeries {
  return isX142Expressway(info) ? 'x14.2-expressway' : 'legacy'
}

export interface ResetQuestionItem {
  area: AreaName
  flag: string
  long: string
  prompt: string
}

/** The questions of the unit's series, in the documented order and wording (from the registry). */
export function resetQuestions(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>): ResetQuestionItem[] {
  const series = resetSeries(info)
  const order = series === 'x14.2-expressway' ? X142_QUESTION_ORDER : LEGACY_QUESTION_ORDER
  return order.map((name) => {
    const q = areaByName(name).question!
    return {area: name, flag: q.flag, long: q.long, prompt: (series === 'x14.2-expressway' ? q.prompt : q.legacyPrompt)!}
  })
}

function seriesName(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>): string {
  return info.brand === 'VCS' ? `Cisco VCS ${info.softwareVersion}` : `Expressway ${info.softwareVersion}`
}

export const LICENSING_WITHOUT_BRAND_MESSAGE =
  'Smart licensing settings cannot be kept (-t) when brand and type are not kept (-v): the unit would revert to Cisco VCS, which has no smart licensing. Add -v, or drop -t.'

/**
 * The rules of the appliance on the keep answers, checked as soon as they can be: before anything
 * changes, and in the dialogue right after the answer that breaks one (before further questions).
 */
export function checkKeepAnswers(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>, answers: KeepAnswers): void {
  const series = resetSeries(info)
  if (series === 'x14.2-expressway' && answers['option-keys']) {
    // the seed: "Flag -o (saving of the option keys) is removed from the Expressway factory reset."
    throw new RefusedError(
      `Refused: the -o flag (saving of the option keys) was removed from the Expressway factory reset (X14.2). On ${seriesName(info)} option keys are not kept; the Microsoft Interoperability key (C00), if present, survives the reset.`,
      {actions: ['Run the reset again without -o.', 'Back the option keys up first if you need them elsewhere: xway backup create UNIT.']},
    )
  }
  const asked = new Set(resetQuestions(info).map((q) => q.area))
  // on VCS / pre-X14.2 the reset never asks about brand and type (they stay) nor the management
  // interface; -v and -m are then honoured as keeps (a no-op for -v), only -t has nothing to keep
  const honoured = new Set<AreaName>(series === 'legacy' ? ['brand', 'mgmt'] : [])
  for (const a of AREAS) {
    if (!a.question || !answers[a.name] || asked.has(a.name) || honoured.has(a.name)) continue
    const list = resetQuestions(info).map((q) => `-${q.flag}`).join(' ')
    throw new RefusedError(
      `Refused: -${a.question.flag} (keep ${a.title}) is not a question of the factory reset on ${seriesName(info)}` +
        (series === 'legacy' ? ' (the Cisco VCS factory reset is unchanged; -t belongs to the Expressway reset from X14.2)' : '') +
        `: its flags are ${list}.`,
      {actions: [`Run the reset again without -${a.question.flag}.`]},
    )
  }
  if (answers.licensing === true && answers.brand !== true) {
    throw new RefusedError(LICENSING_WITHOUT_BRAND_MESSAGE, {actions: ['Run again with -v -t to keep both, or without -t.']})
  }
}

export interface DialogueIo {
  /** one line of the appliance's output (the warning banner) */
  write(line: string): void
  /** a [YES/NO]? question; rejects when there is no answer */
  ask(prompt: string): Promise<boolean>
}

/**
 * The appliance's dialogue: flags are YES answers. No keep flag → every question of the series, in
 * order; any keep flag → only the final question; --yes answers the final question (and, without keep
 * flags, means "keep nothing": the non-interactive full reset).
 */
export async function runResetDialogue(
  info: Pick<ProductInfo, 'brand' | 'softwareVersion'>, flagged: KeepAnswers, options: {yes: boolean}, io: DialogueIo,
): Promise<{answers: KeepAnswers; confirmed: boolean}> {
  checkKeepAnswers(info, flagged)
  const answers: KeepAnswers = {...flagged}
  if (options.yes) return {answers, confirmed: true}
  for (const line of RESET_WARNING_LINES) io.write(line)
  if (!Object.values(flagged).some(Boolean)) {
    for (const q of resetQuestions(info)) {
      answers[q.area] = await io.ask(q.prompt)
      checkKeepAnswers(info, answers)
    }
  }
  return {answers, confirmed: await io.ask(RESET_CONFIRM_PROMPT)}
}

