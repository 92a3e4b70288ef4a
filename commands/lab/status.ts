import * as Args from '@oclif/core/args'
import {XwayCommand} from '../../src/cli/base.js'
import {now} from '../../src/clock.js'
import {labStatus, type LabStatusResult, type LabUnitStatus} from '../../src/lifecycle/lab.js'

export function renderLabTable(units: LabUnitStatus[]): string[] {
  const rows = [['UNIT', 'TYPE', 'VERSION', 'SERIAL', 'REGISTRATION', 'AUTHORIZATION', 'ALARMS'], ...units.map((u) => [u.name, u.type, u.softwareVersion, u.serial, u.registration, u.authorization, String(u.alarms)])]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return [...rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()), ...units.filter((u) => u.error).map((u) => `${u.name}: ${u.error}`)]
}

export default class LabStatus extends XwayCommand<LabStatusResult> {
  static override description = 'Tabulate the units of a lab with their licensing status now'
  static override examples = ['<%= config.bin %> lab status lab-out/demo-lab', 'XWAY_NOW=2027-01-01T00:00:00Z <%= config.bin %> lab status lab-out/demo-lab --json']
  static override args = {dir: Args.string({required: true, description: 'lab folder (from lab up --out)'})}

  async run(): Promise<LabStatusResult> {
    const {args} = await this.parse(LabStatus)
    const result = await labStatus(args.dir, now())
    this.say(`Lab ${result.lab} (${result.out}); license server ${result.licenseServer.url}`)
    for (const line of renderLabTable(result.units)) this.say(line)
    return result
  }
}
