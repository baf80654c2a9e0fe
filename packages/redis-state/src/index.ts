export { PartitionKeys } from './keys';
export { PartitionStore, withScripts } from './partition-store';
export type { CommitItem, OpObserver, OutboxEntry, StoredState } from './partition-store';
export { FencedError, VersionConflictError } from './errors';
export { COMMIT, CLAIM, ACK } from './scripts';
