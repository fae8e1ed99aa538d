export { endMarkedProcesses, type EndMarkedOptions, type EndMarkedResult } from './end-marked'
export { markedDescendants, sessionMarkerEnv, SERVER_ENV, SESSION_ENV, type MarkedProcesses } from './marker'
export { childSubreaperEnabled, enableChildSubreaper, reapAdoptedChildren, type SubreaperState } from './subreaper'
export { processRunning } from './proc-table'
