// Two kinds of tests (see README "Tests"):
//  - unit: *.test.ts beside the code in packages/ and services/; pure, no I/O, fast.
//  - integration: test/**/*.itest.ts against the real Kafka, schema registry and Redis.
// Workspace packages are mapped to their sources so tests never need a build first.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] };
const moduleNameMapper = { '^@labelstream/([a-z-]+)$': '<rootDir>/packages/$1/src' };
const common = { transform, moduleNameMapper, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/packages', '<rootDir>/services'], testMatch: ['**/src/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test', '<rootDir>/packages', '<rootDir>/services'],
      testMatch: ['**/*.itest.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
    },
  ],
};
