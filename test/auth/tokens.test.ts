import { describe, expect, it } from 'bun:test'
import { bearerToken } from '../../src/auth/tokens'

describe('bearerToken', () => {
  it('reads the token of the usual header', () => {
    expect(bearerToken('Bearer abc.def-ghi_jkl')).toBe('abc.def-ghi_jkl')
  })

  it('accepts what RFC 6750 allows beyond the usual form: any case, several spaces or a tab, trailing space', () => {
    expect(bearerToken('bearer abc')).toBe('abc')
    expect(bearerToken('BEARER abc')).toBe('abc')
    expect(bearerToken('Bearer   abc')).toBe('abc')
    expect(bearerToken('Bearer\tabc')).toBe('abc')
    expect(bearerToken('Bearer abc  ')).toBe('abc')
  })

  it('refuses a header with no token, two words, or another scheme', () => {
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Basic abc', 'Bearerabc', '', null, undefined]) expect(bearerToken(header)).toBeNull()
  })

  it('takes a token with characters beyond ASCII as the general form does', () => {
    expect(bearerToken('Bearer tökén')).toBe('tökén')
  })
})
