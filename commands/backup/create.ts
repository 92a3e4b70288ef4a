import * as Flags from '@oclif/core/flags'
import {createBackup, type CreateBackupResult} from '../../src/backup/create.js'
import {resolveBackupPassword} from '../../src/backup/password.js'
import {XwayCommand} from '../../src/cli/base.js'
import {secretFile, unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {UsageError} from '../../src/errors.js'
import {openUnit} from '../../src/areas/open.js'

export default class BackupCreate extends XwayCommand<CreateBackupResult> {
  static override description = 'Back up a unit into an encrypted file (AES-256-GCM, PBKDF2-HMAC-SHA256): bootstrap key, configuration, cluster, users and passwords, certificates, smart licensing, option keys, IP and management configuration; not logs, not ssh host keys'
  static override examples = [
    'XWAY_BACKUP_PASSWORD=… <%= config.bin %> backup create ./units/exp-c1',
    '<%= config.bin %> backup create ./units/exp-c1 -o exp-c1.tar.gz.enc --password-file ~/.xway-backup-password --json',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    output: Flags.string({char: 'o', description: 'backup file to write [default: <version>_<serial>_<YYYYMMDD>_<HHMMSS>_backup.tar.gz.enc in the current directory]'}),
    'password-file': secretFile({description: 'file whose first line is the backup password (else XWAY_BACKUP_PASSWORD, else a hidden prompt on a terminal)'}),
  }

  async run(): Promise<CreateBackupResult> {
    const {args, flags} = await this.parse(BackupCreate)
    await openUnit(args.unit)
    const at = now()
    const password = await resolveBackupPassword({
      fromFile: flags['password-file']?.reveal(),
      prompt: async () => {
        const first = await this.prompts.secret('Backup password: ')
        if (first === undefined || first === '') return first
        const again = await this.prompts.secret('Backup password (again): ')
        if (again !== first) throw new UsageError('the two passwords typed differ', {actions: ['Run again and type the same password twice.']})
        return first
      },
    })
    const result = await this.progress.step(`Backing up ${args.unit}`, () => createBackup(args.unit, {output: flags.output, password, at}))
    this.say(`Backed up ${result.files} files of ${args.unit} (${result.manifest.areas.join(', ')}) into ${result.file} (${result.bytes} bytes, encrypted)`)
    return result
  }
}
