/**
 * Preloaded for every test run (bunfig.toml): an afterAll here runs once, after the last file.
 * bun test runs no process 'exit' handler, so what a run leaves behind is removed here.
 */
import { afterAll } from 'bun:test'
import { removeCompiledBinary } from './fixtures/binary'

afterAll(() => removeCompiledBinary())
