export { createAuthGuard, createPairing, ErrorBody } from './guard'
export type { AuthGuard, Pairing } from './guard'
export { secretsEqual, bearerToken } from './tokens'
