// The factory-reset dialogue as reference/expressway-facts.md documents it, written out once
// (literally, not from the registry) so that tests catch any drift in wording or order.
export const RESET_BANNER = [
  '*************************************************************',
  'Warning! This operation resets the unit to factory default settings!',
  '*************************************************************',
  '',
  'To cancel operation before final confirmation press Ctrl+C',
]

/** Expressway X14.2 and later. */
export const X142_QUESTIONS = [
  'Keep brand and type of the device [YES/NO]?',
  'Keep smart licensing settings [YES/NO]?',
  'Keep FIPS 140 configuration [YES/NO]?',
  'Keep IP configuration [YES/NO]?',
  'Keep dedicated management interface configuration [YES/NO]?',
  'Keep ssh keys [YES/NO]?',
  'Keep server certificate, associated key and CA trust store [YES/NO]?',
  'Keep root and admin passwords [YES/NO]?',
  'Save log files [YES/NO]?',
]

/** Cisco VCS, and Expressway before X14.2. */
export const LEGACY_QUESTIONS = [
  'Keep option keys [YES/NO]?',
  'Keep FIPS140 configuration [YES/NO]?',
  'Keep IP configuration [YES/NO]?',
  'Keep ssh keys [YES/NO]?',
  'Keep server certificate, associated key and CA trust store [YES/NO]?',
  'Keep root and admin passwords [YES/NO]?',
  'Save log files [YES/NO]?',
]

export const CONFIRM_QUESTION = 'Are you sure you want to continue [YES/NO]?'
