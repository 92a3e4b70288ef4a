import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {area} from '../../src/areas/registry.js'
import {resolveBackupPassword} from '../../src/backup/password.js'
import {checkRestoreTarget, restoreBackup, type RestorePlan, type RestoreResult, withArticle} from '../../src/backup/restore.js'
import {XwayCommand} from '../../src/cli/base.js'
import {secretFile, unitArg} from '../../src/cli/flags.js'

export default class BackupRestore extends XwayCommand<RestoreResult> {
  static override description = 'Restore a backup onto a unit of the same software version, brand, type and edition (not while in a cluster; a non-FIPS backup not onto a FIPS unit; onto another serial the smart licensing registration is dropped)'
  static override examples = [
    'XWAY_BACKUP_PASSWORD=… <%= config.bin %> backup restore ./units/exp-c1 X14.2.0_0A1B2C3D_20260101_120000_backup.tar.gz.enc',
    '<%= config.bin %> backup restore ./units/exp-c1 exp-c1.tar.gz.enc --password-file ~/.xway-backup-password --yes --json',
  ]
  static override args = {
    unit: unitArg(),
    file: Args.string({required: true, description: 'backup file'}),
  }
  static override flags = {
    'password-file': secretFile({description: 'file whose first line is the backup password (else XWAY_BACKUP_PASSWORD, else a hidden prompt on a terminal)'}),
    yes: Flags.boolean({description: 'answer YES to "Are you sure you want to continue [YES/NO]?"'}),
  }

  async run(): Promise<RestoreResult> {
    const {args, flags} = await this.parse(BackupRestore)
    await checkRestoreTarget(args.unit)
    const password = await resolveBackupPassword({fromFile: flags['password-file']?.reveal(), prompt: () => this.prompts.secret('Backup password: ')})
    // under --json stdout carries only the result: the dialogue goes to stderr, as the prompt does
    const tell = (line: string) => (this.jsonEnabled() ? process.stderr : process.stdout).write(line + '\n')
    let warned = false
    const confirm = async (plan: RestorePlan): Promise<boolean> => {
      const b = plan.backup
      tell(`Backup of ${withArticle(b.brand)} ${b.type} ${b.softwareVersion}, serial ${b.serial}, made ${b.createdAt}.`)
      tell(`It replaces on ${args.unit}: ${plan.areas.map((a) => area(a).title).join(', ')}.`)
      if (plan.areas.includes('passwords')) tell('The root and admin passwords will become those of the backup.')
      for (const w of plan.warnings) this.warnLine(w)
      warned = true
      return this.prompts.yesNo('Are you sure you want to continue [YES/NO]?', 'the final question')
    }
    const work = () => restoreBackup(args.unit, args.file, password, {confirm: flags.yes ? undefined : confirm})
    const result = flags.yes ? await this.progress.step(`Restoring ${args.file} onto ${args.unit}`, work) : await work()
    if (!warned) for (const w of result.warnings) this.warnLine(w)
    if (result.cancelled) {
      this.say('Restore cancelled; nothing changed')
      return result
    }
    this.say(`Restored ${result.restored.join(', ')} onto ${args.unit} from ${args.file}`)
    for (const note of result.notes) this.say(note)
    return result
  }
}
