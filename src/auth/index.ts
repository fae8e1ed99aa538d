export { createAuthGuard, createPairing, ErrorBody, unauthorizedBody } from './guard'
export type { AuthGuard, Pairing } from './guard'
export { secretsEqual, bearerToken } from './tokens'
