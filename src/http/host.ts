import type * as Net from 'node:net'

/** An IPv4 literal exactly as node:net's isIPv4 reads one: four decimal parts, no leading zeros. */
const IPV4_LITERAL = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/

/**
 * node:net's isIP, without importing node:net at start-up (about 12 ms of every start; see
 * test/architecture): an IPv4 literal by the same rule, and an IPv6 one (always with a colon) by
 * node:net itself, loaded on the first such Host.
 */
export function isIpLiteral(name: string): boolean {
  if (!name.includes(':')) return IPV4_LITERAL.test(name)
  return (require('node:net') as typeof Net).isIP(name) !== 0
}

/** The host name of a Host header value (`[::1]:8080` → `::1`, `Example.com:80` → `example.com`). */
export function hostName(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase()
  if (value.startsWith('[')) {
    const end = value.indexOf(']')
    return end === -1 ? value : value.slice(1, end)
  }
  const colon = value.lastIndexOf(':')
  return colon === -1 ? value : value.slice(0, colon)
}

/**
 * DNS-rebinding defence: a page on evil.example that resolves to 127.0.0.1 still sends
 * `Host: evil.example`, so only IP literals, localhost and names the operator listed pass.
 */
export function isAllowedHost(hostHeader: string | null, allowed: readonly string[]): boolean {
  if (!hostHeader) return false
  const name = hostName(hostHeader)
  if (name === '') return false
  if (isIpLiteral(name)) return true
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  return allowed.includes(name)
}

/** A missing Origin (curl, wscat, the app) passes; a browser's must be listed. */
export function isAllowedOrigin(origin: string | null, allowed: readonly string[]): boolean {
  if (origin === null) return true
  return allowed.includes(origin)
}

/**
 * The web cockpit's own origin: the page was served from this very Host (already checked by
 * isAllowedHost, so a rebinding domain never gets here) or from PUBLIC_URL. A page on any other
 * site sends its own Origin and is refused.
 */
export function isPageOrigin(origin: string | null, hostHeader: string | null, publicUrl: URL | null): boolean {
  if (origin === null) return false
  if (publicUrl && origin === publicUrl.origin) return true
  if (!hostHeader) return false
  const host = hostHeader.trim().toLowerCase()
  return origin === `http://${host}` || origin === `https://${host}`
}

/** Strips credentials from a URL path before it reaches a log line. */
export function redactUrl(pathAndQuery: string): string {
  return pathAndQuery.replace(/([?&](?:token|access_token)=)[^&#]*/gi, '$1[redacted]')
}
