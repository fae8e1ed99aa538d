/**
 * The web cockpit's weight as the compiled binary serves it (raw and gzipped), and how long a
 * browser takes from navigation to a live event stream, on loopback, in headless Chromium.
 * Two marks the page sets itself: `cockpit:events-live` (the /ws/events resume frame arrived)
 * and `cockpit:first-event` (the first event was applied; a task made beforehand guarantees one).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { browserPairingUrl } from '../src/routes/web'
import { CHROMIUM, launchBrowser, newPage, PHONE } from '../test/web/chromium'
import { startBenchServer } from './bench-server'

export type WebBench = {
  htmlBytes: number
  jsBytes: number
  jsGzipBytes: number
  cssBytes: number
  cssGzipBytes: number
  /** Null when Chromium is not installed. */
  eventsLiveMs: { p50: number; max: number } | null
  firstEventMs: { p50: number; max: number } | null
  navigations: number
}

function summary(values: number[]): { p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  return { p50: sorted[Math.floor(sorted.length / 2)] ?? NaN, max: sorted.at(-1) ?? NaN }
}

async function weigh(baseUrl: string) {
  const html = await (await fetch(`${baseUrl}/`)).text()
  const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((match) => match[1]!)
  const sizes = { htmlBytes: new TextEncoder().encode(html).length, jsBytes: 0, jsGzipBytes: 0, cssBytes: 0, cssGzipBytes: 0 }
  // The chunks a script imports (xterm.js is loaded when the Terminal opens) count too.
  for (let i = 0; i < assets.length; i++) {
    const asset = assets[i]!
    const text = await (await fetch(`${baseUrl}/${asset}`, { headers: { 'accept-encoding': 'identity' } })).text()
    const raw = new TextEncoder().encode(text).length
    for (const chunk of text.matchAll(/import\("\.\/([\w-]+\.js)"\)/g)) if (!assets.includes(`assets/${chunk[1]}`)) assets.push(`assets/${chunk[1]}`)
    // fetch() would undo the gzip; the Content-Length of the gzipped answer is what goes over the wire.
    const zipped = await fetch(`${baseUrl}/${asset}`, { headers: { 'accept-encoding': 'gzip' }, decompress: false } as RequestInit)
    const gzip = (await zipped.arrayBuffer()).byteLength
    if (asset.endsWith('.js')) {
      sizes.jsBytes += raw
      sizes.jsGzipBytes += gzip
    } else if (asset.endsWith('.css')) {
      sizes.cssBytes += raw
      sizes.cssGzipBytes += gzip
    }
  }
  return sizes
}

export async function benchWeb({ binary, navigations = 7 }: { binary: string; navigations?: number }): Promise<WebBench> {
  const server = await startBenchServer(binary)
  try {
    const weight = await weigh(server.baseUrl)
    if (!existsSync(CHROMIUM)) return { ...weight, eventsLiveMs: null, firstEventMs: null, navigations: 0 }
    const connection = await server.pair()
    const started = await fetch(`${server.baseUrl}/api/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${connection.token}` },
      body: JSON.stringify({ instruction: 'bench', agent: 'mock', context: { mock: { edits: [{ file: 'bench.txt', content: 'x\n' }] } } }),
    })
    if (started.status !== 202) throw new Error(`bench task refused: ${started.status}`)

    await using browser = await launchBrowser()
    const live: number[] = []
    const first: number[] = []
    // Each navigation in a fresh browser context: nothing cached, as a phone opening the link.
    for (let i = 0; i < navigations; i++) {
      const { page, close } = await newPage(browser.browser, server.baseUrl, PHONE)
      try {
        await page.goto(browserPairingUrl(server.baseUrl, connection))
        await page.waitForFunction(() => performance.getEntriesByName('cockpit:first-event').length > 0, { timeout: 30_000 })
        const marks = await page.evaluate(() => ({
          live: performance.getEntriesByName('cockpit:events-live')[0]?.startTime ?? NaN,
          first: performance.getEntriesByName('cockpit:first-event')[0]?.startTime ?? NaN,
        }))
        live.push(marks.live)
        first.push(marks.first)
      } finally {
        await close()
      }
    }
    return { ...weight, eventsLiveMs: summary(live), firstEventMs: summary(first), navigations }
  } finally {
    server.stop()
  }
}

if (import.meta.main) {
  const binary = resolve(process.argv[2] ?? 'dist/cockpit-coder')
  console.log(JSON.stringify(await benchWeb({ binary }), null, 2))
}
