export { resolveStackEnv, HOW_TO_START } from './stack-env';
export type { StackEnv } from './stack-env';
export { connectStack, testKafka, uniqueName, createTestTopics, collect } from './stack';
export { waitFor, within, freePort } from './wait';
export { LocalRedisCluster } from './redis-cluster';
