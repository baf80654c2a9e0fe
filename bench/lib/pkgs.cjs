'use strict';
/**
 * The built workspace packages the benchmark drives (`pnpm build` first; bench/run.sh does).
 * The benchmark is not a workspace package, so it loads each package's entry point by path.
 */
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const load = (dir) => {
  try {
    return require(path.join(ROOT, dir, 'dist', 'index.js'));
  } catch (err) {
    throw new Error(`cannot load ${dir}/dist (run \`pnpm build\` first): ${err.message}`);
  }
};

module.exports = {
  get cli() {
    return load('packages/cli');
  },
  get contracts() {
    return load('packages/contracts');
  },
  get duration() {
    return load('packages/duration');
  },
  get engine() {
    return load('packages/engine');
  },
  get kafka() {
    return load('packages/kafka');
  },
  get redisState() {
    return load('packages/redis-state');
  },
  get rules() {
    return load('packages/rules');
  },
  get testkit() {
    return load('packages/testkit');
  },
};
