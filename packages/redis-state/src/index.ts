export { PartitionKeys } from './keys';
export { DEFAULT_HISTORY_CAP, PartitionStore, readHistory, withScripts } from './partition-store';
export type { CommitDecision, CommitItem, OpObserver, OutboxEntry, StoredState } from './partition-store';
export { FencedError, RedisAccessError, VersionConflictError } from './errors';
export { checkRedisAccess, describeRedisAccessFailure, redactRedisUrl } from './access';
export type { RedisAccessOptions } from './access';
export { COMMIT, CLAIM, ACK } from './scripts';
