export { loadConfig, parseArgs, usage, ConfigError, OPTIONS, DEFAULT_CMD_ALLOWLIST } from './config'
export type { Config, LogLevel } from './config'
