import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REJECT_REASONS } from './index';

describe('REJECT_REASONS', () => {
  it('are upper snake case with a description each', () => {
    for (const [code, description] of Object.entries(REJECT_REASONS)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(description.length).toBeGreaterThan(10);
    }
  });

  it('are all documented in docs/raw-input-contract.md', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/raw-input-contract.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual(Object.keys(REJECT_REASONS).sort());
  });
});
