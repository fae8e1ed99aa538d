/** Constant-time string comparison: hashing first makes the lengths equal, so length leaks nothing. */
export function secretsEqual(given: string, expected: string): boolean {
  // Bun's own hasher and the global crypto's timingSafeEqual: node:crypto is not loaded at start-up (see test/architecture).
  const a = new Bun.CryptoHasher('sha256').update(given).digest()
  const b = new Bun.CryptoHasher('sha256').update(expected).digest()
  return crypto.timingSafeEqual(a, b)
}

/** `Bearer ` then printable ASCII without spaces: a JWT as every client sends it, read without a regex. */
function plainBearer(header: string): string | null {
  if (header.length <= 7 || !header.startsWith('Bearer ')) return null
  for (let i = 7; i < header.length; i++) {
    const code = header.charCodeAt(i)
    if (code <= 32 || code >= 127) return null
  }
  return header.slice(7)
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null
  // Every authenticated request comes here; the common form skips the regex (same answer).
  const plain = plainBearer(header)
  if (plain !== null) return plain
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match ? match[1]! : null
}
