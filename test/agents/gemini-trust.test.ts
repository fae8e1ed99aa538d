import { describe, expect, it } from 'bun:test'
import { CLI_AGENTS, createCliAgent } from '../../src/agents'
import { LineWatch } from '../../src/tasks/output-tail'

/**
 * gemini 0.61 in a folder it does not trust drops its edit tools and still exits 0 on a terminal.
 * These are the lines it printed here (real gemini, scripted Gemini API, no --skip-trust); the
 * run fails on the first of them. test/agents-real/gemini-trust.test.ts proves it with the CLI.
 */
const definition = CLI_AGENTS.find((d) => d.name === 'gemini')!
const printed =
  'Warning: 256-color support not detected. Using a terminal with at least 256-color support is recommended for a better visual experience.\r\n' +
  '\x1b[33mApproval mode overridden to "default" because the current folder is not trusted.\x1b[0m\r\n' +
  'Skipping project agents due to untrusted folder. To enable, ensure that the project root is trusted.\r\n' +
  'Error executing tool write_file: Tool "write_file" not found. Did you mean one of: "read_file", "update_topic", "grep_search"?\r\n' +
  'I wrote hello.txt.\r\n'

describe("gemini's untrusted-folder detector", () => {
  it('names the cause and the fix for each line gemini prints when it distrusts the folder', () => {
    const detect = createCliAgent(definition).detectFailure!
    for (const line of [
      'Approval mode overridden to "default" because the current folder is not trusted.',
      'Error executing tool write_file: Tool "write_file" not found. Did you mean one of: "read_file"?',
      'Error executing tool replace: Tool "replace" not found.',
      'Gemini CLI is not running in a trusted directory. To proceed, either use `--skip-trust`, …',
    ]) {
      const error = detect(line)
      expect(error).toContain('untrusted')
      expect(error).toContain('--skip-trust')
      expect(error).toContain('GEMINI_CLI_TRUST_WORKSPACE=true')
      expect(error).toContain(line.slice(0, 40))
    }
  })

  it('passes ordinary output, including a model that merely talks about trust or tools', () => {
    const detect = createCliAgent(definition).detectFailure!
    for (const line of ['I wrote hello.txt.', 'Ripgrep is not available. Falling back to GrepTool.', 'The folder is trusted now.', 'Tool "read_file" ran.', '']) {
      expect(detect(line)).toBeNull()
    }
  })

  it('applies to an AGENT_GEMINI_CMD command line too, which is exactly where --skip-trust may be missing', () => {
    const overridden = createCliAgent(definition, 'gemini --approval-mode auto_edit --prompt')
    expect(overridden.detectFailure?.('Approval mode overridden to "default" because the current folder is not trusted.')).toContain('untrusted')
  })

  it('finds the warning in a PTY stream cut anywhere, with colours and CRLF, and keeps the first answer', () => {
    const detect = createCliAgent(definition).detectFailure!
    for (const cut of [1, 7, 64, 200]) {
      const watch = new LineWatch(detect)
      for (let at = 0; at < printed.length; at += cut) watch.push(printed.slice(at, at + cut))
      watch.end()
      expect(watch.found).toContain('Approval mode overridden to "default"')
    }
  })
})

describe('LineWatch', () => {
  const watchFor = (word: string) => new LineWatch((line) => (line.includes(word) ? `saw: ${line}` : null), 64)

  it('checks the last line at the end of the stream even without a newline', () => {
    const watch = watchFor('boom')
    watch.push('first\r\nlast line boom')
    expect(watch.found).toBeNull()
    watch.end()
    expect(watch.found).toBe('saw: last line boom')
  })

  it('finds a word far into one very long line without holding the whole line', () => {
    const watch = watchFor('boom')
    watch.push('x'.repeat(1000))
    watch.push('boom')
    watch.push('y'.repeat(1000))
    expect(watch.found).toStartWith('saw: ')
  })

  it('stays null when nothing matches', () => {
    const watch = watchFor('boom')
    watch.push('quiet\r\nstill quiet\n')
    watch.end()
    expect(watch.found).toBeNull()
  })

  it('strips ANSI before checking, so a word split by colour codes is found', () => {
    const watch = watchFor('plain')
    watch.push('\x1b[1mpl\x1b[0main?\n')
    expect(watch.found).toBe('saw: plain?')
  })
})
