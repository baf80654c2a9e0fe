export { resolveStackEnv, HOW_TO_START } from './stack-env';
export type { StackEnv } from './stack-env';
export { connectStack, testKafka, uniqueName, createTestTopics, collect } from './stack';
export { waitFor, within, freePort } from './wait';
export { runServiceUntilExit, spawnService } from './service-process';
export type { ExitStatus, ServiceName, ServiceProcess, SpawnServiceOptions, StopResult } from './service-process';
export { LocalRedisCluster } from './redis-cluster';
