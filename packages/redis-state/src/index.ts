export { PartitionKeys } from './keys';
export { PartitionStore, readHistory, withScripts } from './partition-store';
export type { CommitDecision, CommitItem, OpObserver, OutboxEntry, StoredState } from './partition-store';
export { FencedError, RedisAccessError, RulesConflictError, VersionConflictError } from './errors';
export { PartitionRulesStore, RulesChannel, readPartitionRules, type PartitionRules, type PublishedRules } from './rules-channel';
export { checkRedisAccess, describeRedisAccessFailure, redactRedisUrl } from './access';
export type { RedisAccessOptions } from './access';
export { COMMIT, CLAIM, ACK } from './scripts';
