import type { FilePatch } from '../git'
import type { TaskRecord, TaskStore } from './types'

/** The in-memory TaskStore: a Map in insertion order, so newest first is a reversed walk. */
export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, TaskRecord>()
  private readonly finalPatches = new Map<string, FilePatch[]>()

  insert(task: TaskRecord): void {
    if (this.tasks.has(task.id)) throw new Error(`task ${task.id} already exists`)
    this.tasks.set(task.id, { ...task })
  }

  get(id: string): TaskRecord | undefined {
    const task = this.tasks.get(id)
    return task ? { ...task } : undefined
  }

  update(id: string, changes: Partial<Omit<TaskRecord, 'id' | 'sessionId'>>): TaskRecord {
    const task = this.tasks.get(id)
    if (!task) throw new Error(`task ${id} does not exist`)
    Object.assign(task, changes)
    return { ...task }
  }

  listBySession(sessionId: string): TaskRecord[] {
    return this.listAll().filter((task) => task.sessionId === sessionId)
  }

  listAll(): TaskRecord[] {
    return [...this.tasks.values()].reverse().map((task) => ({ ...task }))
  }

  listUnfinished(): TaskRecord[] {
    return this.listAll().filter((task) => task.status === 'pending' || task.status === 'running')
  }

  delete(id: string): void {
    this.tasks.delete(id)
    this.finalPatches.delete(id)
  }

  savePatches(id: string, patches: FilePatch[]): void {
    this.finalPatches.set(id, patches)
  }

  patches(id: string): FilePatch[] | undefined {
    return this.finalPatches.get(id)
  }
}
