import { t } from 'elysia'

/** The contract's FilePatch, shared by the git and task routes. */
export const HunkSchema = t.Object({
  startOld: t.Number(),
  lenOld: t.Number(),
  startNew: t.Number(),
  lenNew: t.Number(),
  lines: t.Array(t.String(), { description: "Each line keeps its leading ' ', '+', '-' or '\\\\'" }),
})

export const FilePatchSchema = t.Object({
  file: t.String(),
  oldFile: t.Optional(t.String()),
  type: t.Union([t.Literal('added'), t.Literal('modified'), t.Literal('deleted'), t.Literal('renamed')]),
  binary: t.Boolean(),
  patch: t.String({ description: 'Unified diff text as `git diff` prints it' }),
  content: t.String({ description: 'The same text as patch, for older clients' }),
  hunks: t.Array(HunkSchema),
  oldMode: t.Optional(t.String()),
  newMode: t.Optional(t.String()),
})

/** What both diffs answer: GET /api/git/diff and GET /api/tasks/:id/patches. */
export const PatchesSchema = t.Object({ patches: t.Array(FilePatchSchema) })

export const RepoStatusSchema = t.Object({
  branch: t.Union([t.String(), t.Null()]),
  head: t.Union([t.String(), t.Null()]),
  files: t.Array(t.Object({ file: t.String(), status: t.String() })),
})
