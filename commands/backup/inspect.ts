import * as Args from '@oclif/core/args'
import type {BackupManifest} from '../../src/backup/manifest.js'
import {resolveBackupPassword} from '../../src/backup/password.js'
import {inspectBackup, withArticle} from '../../src/backup/restore.js'
import {XwayCommand} from '../../src/cli/base.js'
import {secretFile} from '../../src/cli/flags.js'

export default class BackupInspect extends XwayCommand<BackupManifest> {
  static override description = 'Show the manifest of a backup, once the whole file has been authenticated and every file checked against it'
  static override examples = [
    'XWAY_BACKUP_PASSWORD=… <%= config.bin %> backup inspect X14.2.0_0A1B2C3D_20260101_120000_backup.tar.gz.enc',
    '<%= config.bin %> backup inspect exp-c1.tar.gz.enc --password-file ~/.xway-backup-password --json | jq .serial',
  ]
  static override args = {file: Args.string({required: true, description: 'backup file'})}
  static override flags = {
    'password-file': secretFile({description: 'file whose first line is the backup password (else XWAY_BACKUP_PASSWORD, else a hidden prompt on a terminal)'}),
  }

  async run(): Promise<BackupManifest> {
    const {args, flags} = await this.parse(BackupInspect)
    const password = await resolveBackupPassword({fromFile: flags['password-file']?.reveal(), prompt: () => this.prompts.secret('Backup password: ')})
    const {manifest: m} = await this.progress.step(`Checking ${args.file}`, () => inspectBackup(args.file, password))
    this.say(`${args.file}: backup of ${withArticle(m.brand)} ${m.type} ${m.softwareVersion} (${m.edition}), serial ${m.serial}, made ${m.createdAt}`)
    this.say(`  fips      ${m.fips ? 'on' : 'off'}`)
    this.say(`  areas     ${m.areas.join(', ')}`)
    this.say(`  files     ${m.files.length} (${m.files.reduce((n, f) => n + f.size, 0)} bytes), all checked against their SHA-256`)
    this.say(`  format    ${m.formatVersion}, PBKDF2-HMAC-SHA256 ${m.kdf.iterations} iterations, AES-256-GCM`)
    return m
  }
}
