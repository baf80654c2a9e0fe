export { ConfigError } from './errors';
export { parseDurationMs } from './durations';
export {
  loadCommon,
  loadIngestConfig,
  loadEvaluatorConfig,
  loadPublisherConfig,
  parseEnv,
  DEFAULT_FX_RATES_TO_EUR,
} from './load';
export type {
  CommonConfig,
  Env,
  EvaluatorConfig,
  IngestConfig,
  KafkaSettings,
  PublisherConfig,
  RegistrySettings,
  TopicNames,
} from './load';
