/**
 * Lets the compiled fault runner (plain `node`, no jest) import the workspace packages:
 * `@labelstream/<name>` resolves to `packages/<name>/dist/index.js`, as the services get
 * them through their pnpm links. Imported first by run.ts.
 */
import { join } from 'node:path';
import Module = require('node:module');

const ROOT = join(__dirname, '..', '..', '..');
const loader = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const original = loader._resolveFilename;
loader._resolveFilename = function resolve(this: unknown, request: string, ...rest: unknown[]): string {
  const m = /^@labelstream\/([a-z-]+)$/.exec(request);
  if (m) return join(ROOT, 'packages', m[1]!, 'dist', 'index.js');
  return original.call(this, request, ...rest);
};
