/**
 * Runs the mock agent when the server runs from source (`bun src/main.ts`, `bun test`): the
 * mock adapter starts `bun <this file> __mock-agent <spec>`. The compiled binary has no source
 * files, so there main.ts dispatches the `__mock-agent` argv word to runMockAgentProcess instead.
 */
import { runMockAgentProcess } from './mock-agent-process'

process.exit(await runMockAgentProcess(process.argv))
