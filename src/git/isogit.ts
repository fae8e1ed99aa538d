/**
 * isomorphic-git, loaded when the git layer first needs it rather than at start-up (evaluating it
 * was a measurable share of start-to-healthy). Only the calls this layer makes are forwarded.
 */
import { importLazy } from '../lazy-packages'

type IsoGit = typeof import('isomorphic-git').default

let loaded: Promise<IsoGit> | null = null
const load = (): Promise<IsoGit> => (loaded ??= importLazy('isomorphic-git').then((module) => module.default))

export const git = {
  resolveRef: async (...args: Parameters<IsoGit['resolveRef']>) => (await load()).resolveRef(...args),
  getConfig: async (...args: Parameters<IsoGit['getConfig']>) => (await load()).getConfig(...args),
  currentBranch: async (...args: Parameters<IsoGit['currentBranch']>) => (await load()).currentBranch(...args),
}
