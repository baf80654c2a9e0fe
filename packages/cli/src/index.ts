export { formatExplanation, type ExplainAnswer, type ExplainHistoryItem, type ExplainFormatOptions } from './commands/explain-format';
export { registerGenerate, runGenerator, type GenerateOptions, type GenerateDeps, type GenerateSummary, type GeneratorKafka, type StopReason } from './commands/generate';
export { formatLabelEvent } from './commands/watch';
export { parsePrometheusText, summarise } from './commands/metrics-text';
