import { versionProblem } from './rules-live';

describe('versionProblem', () => {
  const log = [{ seq: 1, version: 'v1', hash: 'h1', publishedAt: 0, note: '' }];

  it('refuses a version string published before with other rules', () => {
    expect(versionProblem({ version: 'v1', hash: 'h2' }, log)).toMatch(/version "v1" was already published \(sequence 1\) with other rules/);
  });

  it('accepts a new version, and the same rules again (a rollback)', () => {
    expect(versionProblem({ version: 'v2', hash: 'h2' }, log)).toBeUndefined();
    expect(versionProblem({ version: 'v1', hash: 'h1' }, log)).toBeUndefined();
  });
});
