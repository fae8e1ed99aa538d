/** Wire types of the git layer; field names are fixed by the API contract (FilePatch). */

export type Hunk = { startOld: number; lenOld: number; startNew: number; lenNew: number; lines: string[] }

export type FilePatch = {
  file: string
  oldFile?: string
  type: 'added' | 'modified' | 'deleted' | 'renamed'
  binary: boolean
  /** The file's unified diff exactly as `git diff` prints it. */
  patch: string
  /** Same text as `patch`, kept for older clients. */
  content: string
  hunks: Hunk[]
  oldMode?: string
  newMode?: string
}

export type HunkSelection = { file: string; hunks?: number[] }[]

export type RepoStatus = { branch: string | null; head: string | null; files: { file: string; status: string }[] }
