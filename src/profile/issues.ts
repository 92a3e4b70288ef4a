import {relative, isAbsolute} from 'node:path'

import {BadInputError} from '../errors.js'

/** Where a value sits in a YAML file: 1-based line and column. */
export interface Location {
  /** absolute path of the file */
  file: string
  line: number
  column: number
}

/** One thing wrong with a profile or lab file, located in the file it came from. */
export interface ProfileIssue {
  /** the file as shown to the user (relative to the working directory when inside it) */
  file: string
  /** field path inside that file, like `licensing.transport.url` or `network.dns[1]`; empty for the whole file */
  path: string
  message: string
  line?: number
  column?: number
  /** in a lab: the expanded unit the issue belongs to */
  unit?: string
}

/** Shows a path relative to the working directory when it lies inside it, as users typed it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

export function formatIssue(issue: ProfileIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column})`
  const path = issue.path === '' ? '' : `${issue.path}: `
  const unit = issue.unit === undefined ? '' : ` [unit ${issue.unit}]`
  return `${issue.file}: ${path}${issue.message}${where}${unit}`
}

const MAX_LISTED = 20

/**
 * A profile or lab file that cannot be used. The message holds one line per issue,
 * `FILE: PATH: MESSAGE (line L, column C)`; `issues` keeps them apart for callers.
 */
export class ProfileError extends BadInputError {
  readonly issues: ProfileIssue[]
  constructor(issues: ProfileIssue[]) {
    const lines = issues.slice(0, MAX_LISTED).map(formatIssue)
    if (issues.length > MAX_LISTED) lines.push(`… and ${issues.length - MAX_LISTED} more`)
    super(lines.join('\n'), {
      actions: ['Fix the file and run the command again; profiles/schema.json describes every field (editors check it through the "# yaml-language-server: $schema=" comment).'],
    })
    this.issues = issues
  }
}
