/**
 * Process entry. The one executable has two modes: the server (serve.ts) and the mock agent
 * (the mock adapter runs this same binary with the marker word). Each is loaded only when chosen,
 * so the mock agent does not evaluate the server's modules and the server not the mock's.
 */
import { MOCK_AGENT_MARKER } from './agents/mock-marker'

if (process.argv[2] === MOCK_AGENT_MARKER) {
  // The build's raised JIT thresholds are for the server's start-up only (see serve.ts).
  Bun.unsafe.setJITPolicy(1)
  const { runMockAgentProcess } = await import('./agents/mock-agent-process')
  process.exit(await runMockAgentProcess(process.argv))
}
const { serve } = await import('./serve')
await serve()
