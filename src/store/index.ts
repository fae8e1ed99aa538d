export { openState, type State } from './state'
export { StateError, STATE_FILE, prepareStateDir } from './db'
export { SCHEMA_VERSION } from './schema'
export { keepSecrets, SECRETS_FILE, type SecretSource, type KeptSecrets } from './secrets'
export { MemoryConversationStore, SqliteConversationStore, type ConversationStore, type ConversationMessage, type MessageRole } from './conversations'
export {
  MemoryApprovalStore,
  SqliteApprovalStore,
  type ApprovalStore,
  type ApprovalRecord,
  type ApprovalChanges,
  type ApprovalStatus,
  type ApprovalOutcome,
  type ApprovalBy,
  type ApprovalOption,
  type ApprovalTool,
} from './approvals'
