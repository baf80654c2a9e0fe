'use strict';
// Preloaded (node --require) into a child the benchmark measures: prints the process's peak
// resident set on exit, so the harness need not poll /proc of a short-lived process.
process.on('exit', () => process.stderr.write(`\nbench-max-rss-kb=${process.resourceUsage().maxRSS}\n`));
