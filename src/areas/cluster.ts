import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file, folder} from './area.js'

/** Cluster peers. */
export const CLUSTER = {dir: 'tandberg/persistent/clusterdb', file: 'tandberg/persistent/clusterdb/cluster.json'} as const

export interface ClusterFile {
  cluster: {name: string; primary: string; peers: string[]} | null
}

export const readCluster = (files: UnitReader) => readJson<ClusterFile>(files, CLUSTER.file, {cluster: null})

export const clusterArea: AreaModule = {
  name: 'cluster',
  title: 'cluster configuration',
  files: [folder(CLUSTER.dir), file(CLUSTER.file, 'json', {required: true})],
  question: null,
  resetSource: 'payload',
  backup: true,
  restore: 'replace',
  resetDetail: ({action}) => (action === 'kept' ? 'kept' : 'factory defaults'),
  inspect: ({files}) => ({cluster: readCluster(files).cluster}),
}
