export { formatExplanation, type ExplainAnswer, type ExplainHistoryItem, type ExplainFormatOptions } from './commands/explain-format';
export { registerGenerate, runGenerator, type GenerateOptions, type GenerateDeps, type GenerateSummary, type GeneratorKafka, type StopReason } from './commands/generate';
export { formatLabelEvent } from './commands/watch';
export { parsePrometheusText, summarise } from './commands/metrics-text';
export { buildReport, chooseBucket, type ReportEvent, type ReportModel, type ReportOptions, type ReportRules, type LabelStats } from './report/model';
export { renderReportHtml } from './report/html';
export { readLabelEvents, type ReadProgress } from './report/read-label-events';
export { parseSince } from './commands/report';
