/** Server memory: RSS idle, and with 50 live terminals each watched over a WebSocket. */
import { startBenchServer } from './bench-server'

export type RssBench = { idleKiB: number; withTerminalsKiB: number; terminals: number; perTerminalKiB: number }

async function openTerminal(wsUrl: string, session: { sessionId: string; token: string }): Promise<WebSocket> {
  const socket = new WebSocket(`${wsUrl}/ws/pty?sessionId=${session.sessionId}&token=${session.token}`)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('terminal did not answer')), 15_000)
    socket.onmessage = () => {
      clearTimeout(timer)
      resolve()
    }
    socket.onerror = () => reject(new Error('terminal socket failed'))
    socket.onopen = () => socket.send(JSON.stringify({ type: 'input', data: 'echo ready\r' }))
  })
  return socket
}

export async function benchRss(options: { binary: string; terminals?: number }): Promise<RssBench> {
  const count = options.terminals ?? 50
  const server = await startBenchServer(options.binary, { PTY_MAX_TOTAL: String(count + 10) })
  const sockets: WebSocket[] = []
  try {
    await Bun.sleep(1500)
    const idleKiB = server.rssKiB()
    for (let i = 0; i < count; i++) sockets.push(await openTerminal(server.wsUrl, await server.pair()))
    await Bun.sleep(1500)
    const withTerminalsKiB = server.rssKiB()
    return { idleKiB, withTerminalsKiB, terminals: count, perTerminalKiB: (withTerminalsKiB - idleKiB) / count }
  } finally {
    for (const socket of sockets) socket.close()
    server.stop()
  }
}
