#!/usr/bin/env node
/**
 * The `labelstream` command (`pnpm labelstream …`): rules check, explain, generate, watch, report.
 * A command-line tool is a composition root too, so it may read the environment.
 */
import { createProgram } from './program';

createProgram().parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
