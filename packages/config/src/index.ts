export { ConfigError } from './errors';
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
