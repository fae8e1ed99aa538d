export { loadConfig, loadProcessConfig, newJwtSecret, newPairingToken, parseArgs, usage, ConfigError } from './config'
export type { Config, LogLevel } from './config'
export { OPTIONS, DEFAULT_CMD_ALLOWLIST, optionsMarkdown } from './options'
export type { Option, Settings } from './options'
