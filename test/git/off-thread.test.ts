import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeRepo, type TestRepo } from '../fixtures/git-repo'
import { cpus } from 'node:os'
import { createWorkspace, diffWorkingTree, holdGitWorkers, measureTree, patchOrigin, readStatus } from '../../src/git/index'
import { gitWorkLoad, MAX_QUEUED, stopGitWorkers } from '../../src/git/off-thread'

/** A repo of `count` files of `size` bytes, committed, then every file rewritten: a diff must read and hash all of them. */
async function touchedRepo(count: number, size: number): Promise<TestRepo> {
  const line = 'the quick brown fox jumps over the lazy dog\n'
  const body = (i: number, v: number) => `${i} ${v}\n` + line.repeat(Math.ceil(size / line.length))
  const files: Record<string, string> = {}
  for (let i = 0; i < count; i++) files[`d${i % 20}/f${i}.txt`] = body(i, 0)
  const repo = await makeRepo(files)
  for (let i = 0; i < count; i++) repo.write(`d${i % 20}/f${i}.txt`, body(i, 1))
  return repo
}

/** Counts event-loop turns (timer hops) until `work` settles. */
async function turnsWhile<T>(work: Promise<T>): Promise<{ turns: number; value: T }> {
  let turns = 0
  let done = false
  const hop = () => {
    if (done) return
    turns++
    setTimeout(hop, 0)
  }
  setTimeout(hop, 0)
  const value = await work.finally(() => (done = true))
  return { turns, value }
}

describe('git work off the calling thread', () => {
  it('keeps the event loop turning while a diff reads and hashes every file of a big tree', async () => {
    await using repo = await touchedRepo(1000, 40_000)
    await diffWorkingTree(repo.dir) // the worker is started and warm; the files are still all changed
    const { turns, value } = await turnsWhile(diffWorkingTree(repo.dir))
    expect(value).toHaveLength(1000)
    // On the calling thread the hashing of 40 MB was one synchronous block: a handful of turns at most.
    expect(turns).toBeGreaterThanOrEqual(10)
  }, 120_000)

  it.if(existsSync('/proc/thread-self'))('runs git work on a thread that yields the CPU to the calling thread', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    await readStatus(repo.dir)
    /** nice of each thread of this process (field 19 of /proc/<pid>/task/<tid>/stat), by thread name. */
    const nices = readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      return { tid: Number(tid), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) }
    })
    expect(nices.find((t) => t.tid === process.pid)!.nice).toBe(0)
    expect(nices.filter((t) => t.name === 'Worker').every((t) => t.nice > 0)).toBe(true)
    expect(nices.some((t) => t.name === 'Worker')).toBe(true)
  })

  it('keeps where each patch came from across the thread boundary', async () => {
    await using repo = await makeRepo({ 'a.bin': 'a\0b' })
    repo.write('a.bin', 'a\0c')
    const [patch] = await diffWorkingTree(repo.dir)
    expect(patch!.binary).toBe(true)
    expect(patchOrigin(patch!)).toMatchObject({ oldOid: repo.git('rev-parse', 'HEAD:a.bin').trim() })
  })

  it('answers status and diffs for several repositories at once, each its own', async () => {
    await using a = await makeRepo({ 'a.txt': 'a\n' })
    await using b = await makeRepo({ 'b.txt': 'b\n' })
    a.write('a.txt', 'A\n')
    b.write('new.txt', 'new\n')
    const [da, db, sa, sb] = await Promise.all([diffWorkingTree(a.dir), diffWorkingTree(b.dir), readStatus(a.dir), readStatus(b.dir)])
    expect(da.map((p) => p.file)).toEqual(['a.txt'])
    expect(db.map((p) => p.file)).toEqual(['new.txt'])
    expect(sa.files).toEqual([{ file: 'a.txt', status: ' M' }])
    expect(sb.files).toEqual([{ file: 'new.txt', status: '??' }])
  })

  it('brings a domain error back as the same class with its status', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    const error = await diffWorkingTree(repo.dir, { base: 'no-such-branch' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ status: 404, kind: 'unknown_revision' })
  })

  it('stops waiting for a cancelled diff at once and leaves nothing queued or running', async () => {
    await using repo = await touchedRepo(300, 20_000)
    const controller = new AbortController()
    const pending = diffWorkingTree(repo.dir, { signal: controller.signal })
    controller.abort()
    await expect(pending.then(() => 'finished', (e: Error) => e.name)).resolves.toBe('AbortError')
    // the worker's own run of it finishes and is dropped; then the pool is idle
    for (let i = 0; i < 200 && gitWorkLoad().running + gitWorkLoad().queued > 0; i++) await Bun.sleep(50)
    expect(gitWorkLoad()).toMatchObject({ queued: 0, running: 0 })
    expect(await diffWorkingTree(repo.dir)).toHaveLength(300)
  }, 60_000)

  it('refuses an already aborted signal without starting anything', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    const controller = new AbortController()
    controller.abort()
    await expect(readStatus(repo.dir, { signal: controller.signal }).catch((e: Error) => e.name)).resolves.toBe('AbortError')
  })

  it('stops a cancelled workspace copy and reports the abort', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 2000; i++) files[`d${i % 20}/f${i}.txt`] = `${i}\n`.repeat(400)
    await using repo = await makeRepo(files)
    const controller = new AbortController()
    const dir = join(repo.dir, '..', 'ws')
    const made = createWorkspace(repo.dir, dir, { signal: controller.signal })
    controller.abort()
    await expect(made.catch((e: Error) => e.name)).resolves.toBe('AbortError')
    for (let i = 0; i < 200 && gitWorkLoad().running > 0; i++) await Bun.sleep(50)
    expect(gitWorkLoad().running).toBe(0)
    // the copy never finished: no index was written
    expect(existsSync(join(dir, '.git', 'index'))).toBe(false)
  }, 60_000)

  it('bounds what waits: past the queue limit a call fails with 503 and the rest still complete', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    repo.write('a.txt', 'b\n')
    const calls = Array.from({ length: MAX_QUEUED + 40 }, () => readStatus(repo.dir).then(() => 200, (e: { status?: number }) => e.status))
    const statuses = await Promise.all(calls)
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0)
    expect(statuses.filter((s) => s !== 503 && s !== 200)).toEqual([])
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(MAX_QUEUED)
  }, 60_000)

  it('fails what is in flight with 503 and terminates the workers when the last server lets go', async () => {
    await using repo = await touchedRepo(300, 20_000)
    const releaseA = holdGitWorkers()
    const releaseB = holdGitWorkers()
    const pending = diffWorkingTree(repo.dir).then(() => 200, (e: { status?: number }) => e.status)
    releaseA()
    expect(gitWorkLoad().workers).toBeGreaterThan(0) // another holder remains
    releaseB()
    expect(gitWorkLoad()).toEqual({ workers: 0, queued: 0, running: 0 })
    expect(await pending).toBe(503)
    // a later call starts a fresh worker
    expect(await diffWorkingTree(repo.dir)).toHaveLength(300)
  }, 60_000)

  it('runs the quota walk of a directory beside its diff, on the other worker, not after it', async () => {
    await using repo = await touchedRepo(300, 20_000)
    stopGitWorkers() // from no workers: the diff starts the first one
    const diff = diffWorkingTree(repo.dir)
    const measure = measureTree(repo.dir)
    expect(gitWorkLoad()).toEqual({ workers: Math.min(2, cpus().length), queued: 0, running: 2 })
    expect(await diff).toHaveLength(300)
    expect(await measure).toBeGreaterThan(300 * 20_000)
  }, 60_000)
})
