export { formatExplanation } from './commands/explain';
