export { CommandRunner } from './runner'
export type { CommandRunnerOptions, StartCommand } from './runner'
export type { CommandView, CommandStatus } from './command'
export { signalGroup, groupAlive, terminateGroup } from './process-group'
