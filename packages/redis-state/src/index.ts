export { PartitionKeys } from './keys';
export { DEFAULT_HISTORY_CAP, NO_LABEL, PartitionStore, readHistory, readPopulation, withScripts } from './partition-store';
export type { CommitDecision, CommitItem, OpObserver, OutboxEntry, Population, ReplicaWait, StoredState } from './partition-store';
export { createRedisClient, isCluster, mastersOf, parseRedisUrl } from './client';
export type { RedisClient, RedisClientOptions, RedisTarget } from './client';
export { FencedError, NotReplicatedError, RedisAccessError, VersionConflictError } from './errors';
export { checkRedisAccess, describeRedisAccessFailure, redactRedisUrl } from './access';
export type { RedisAccessOptions } from './access';
export { COMMIT, CLAIM, ACK, POPULATION_INIT } from './scripts';
