export { loadConfig, loadProcessConfig, newJwtSecret, newPairingToken, parseArgs, usage, ConfigError } from './config'
export type { Config, LogLevel } from './config'
export { OPTIONS, DEFAULT_CMD_ALLOWLIST, DEFAULT_CORS_ORIGINS, optionsMarkdown } from './options'
export type { Option, Settings } from './options'
