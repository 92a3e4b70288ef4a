// A multi-file change to a unit, run in a child process so that tests can kill -9 it at any
// instant: 30 new log files, a deleted log folder, new IP and management files, an audit line.
import {P} from './paths.js'
import {DirectoryStore} from '../../src/unit/directory-store.js'
import {changeStore} from '../../src/unit/transaction.js'

const unit = process.argv[2]
await changeStore(new DirectoryStore(unit), unit, 'crash test', (tx) => {
  tx.delete(`${P.logDir}/old`)
  for (let i = 0; i < 30; i++) tx.write(`${P.logDir}/new/f${i}.log`, `entry ${i}\n`.repeat(2000))
  tx.writeJson(P.ip, {hostname: 'after-crash', domain: 'lab.example', dns: ['192.0.2.53'], lan1: {address: '192.0.2.77/24', gateway: '192.0.2.1'}})
  tx.writeJson(P.mgmt, {enabled: true, address: '198.51.100.77/24'})
  tx.audit({test: true})
})
process.stdout.write('done\n')
