export { createAuthGuard, createPairing, ErrorSchema, unauthorized } from './guard'
export type { AuthGuard, Pairing } from './guard'
export { secretsEqual, bearerToken } from './tokens'
