import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newJwtSecret, newPairingToken } from '../config'
import { StateError } from './db'

export const SECRETS_FILE = 'secrets.json'

/** Where a secret came from: the environment or a flag, secrets.json, or made on this start. */
export type SecretSource = 'set' | 'kept' | 'new'

export type KeptSecrets = {
  jwtSecret: string
  pairingToken: string
  jwtSecretSource: SecretSource
  pairingTokenSource: SecretSource
  /** One line for start-up's print-out: where each secret came from. */
  sources: string
  /** Warnings to print (a permissions fix). */
  warnings: string[]
}

type SecretsFile = { jwtSecret?: string; pairingToken?: string }

function readSecrets(file: string, warnings: string[]): SecretsFile {
  if (!existsSync(file)) return {}
  const mode = statSync(file).mode & 0o777
  if (mode & 0o077) {
    // Fixed rather than refused: the owner can still rotate, and refusing would lock them out of
    // a server that was working; the warning says what to do if someone else may have read it.
    chmodSync(file, 0o600)
    warnings.push(`warning: ${file} had mode ${mode.toString(8)} (readable by others); it is now 0600. Run once with --rotate-secrets if someone else may have read it.`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new StateError(`STATE_DIR: ${file} is not valid JSON (${(error as Error).message}); remove it to make new secrets.`)
  }
  if (typeof parsed !== 'object' || parsed === null) throw new StateError(`STATE_DIR: ${file} is not a JSON object; remove it to make new secrets.`)
  const { jwtSecret, pairingToken } = parsed as Record<string, unknown>
  return {
    ...(typeof jwtSecret === 'string' && Buffer.byteLength(jwtSecret) >= 32 ? { jwtSecret } : {}),
    ...(typeof pairingToken === 'string' && Buffer.byteLength(pairingToken) >= 16 ? { pairingToken } : {}),
  }
}

function writeSecrets(file: string, secrets: SecretsFile): void {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}

/**
 * The JWT secret and pairing token of this start. One given in the environment or as a flag is
 * used as is ("set"); one not given is read from STATE_DIR/secrets.json ("kept") or made and
 * written there ("new"), so tokens and the pairing token survive a restart. `rotate` makes new
 * ones for those not given.
 */
export function keepSecrets(
  stateDir: string,
  given: { jwtSecret: string | null; pairingToken: string | null },
  rotate = false,
): KeptSecrets {
  const file = join(stateDir, SECRETS_FILE)
  const warnings: string[] = []
  const kept = rotate ? {} : readSecrets(file, warnings)
  const jwtSource: SecretSource = given.jwtSecret !== null ? 'set' : kept.jwtSecret !== undefined ? 'kept' : 'new'
  const pairingSource: SecretSource = given.pairingToken !== null ? 'set' : kept.pairingToken !== undefined ? 'kept' : 'new'
  const jwtSecret = given.jwtSecret ?? kept.jwtSecret ?? newJwtSecret()
  const pairingToken = given.pairingToken ?? kept.pairingToken ?? newPairingToken()
  if (jwtSource === 'new' || pairingSource === 'new') {
    const onDisk = rotate ? {} : readSecrets(file, [])
    writeSecrets(file, {
      ...onDisk,
      ...(jwtSource !== 'set' ? { jwtSecret } : {}),
      ...(pairingSource !== 'set' ? { pairingToken } : {}),
    })
  }
  const describe = (name: string, source: SecretSource) =>
    source === 'set' ? `${name} set (environment or flag)` : source === 'kept' ? `${name} kept (${file})` : `${name} new, kept in ${file}`
  const sources = `${describe('JWT_SECRET', jwtSource)}; ${describe('PAIRING_TOKEN', pairingSource)}`
  return { jwtSecret, pairingToken, jwtSecretSource: jwtSource, pairingTokenSource: pairingSource, sources, warnings }
}
