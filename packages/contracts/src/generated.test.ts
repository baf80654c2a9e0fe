import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The generator is plain Node (it runs without a build); load it as CommonJS.
const generator = require('../scripts/gen-types.js') as { generateAll(): Map<string, string> };

const GENERATED_DIR = join(__dirname, 'generated');

describe('generated types', () => {
  it('are up to date with schemas/*.avsc (run `pnpm --filter @labelstream/contracts gen` if this fails)', () => {
    const expected = generator.generateAll();
    const committed = readdirSync(GENERATED_DIR).filter((f) => f.endsWith('.ts')).sort();
    expect(committed).toEqual([...expected.keys()].sort());
    for (const [file, content] of expected) {
      expect({ file, content: readFileSync(join(GENERATED_DIR, file), 'utf8') }).toEqual({ file, content });
    }
  });

  it('carry the generated-file header', () => {
    for (const [file, content] of generator.generateAll()) {
      expect(content.split('\n')[0]).toBe(
        `// GENERATED FROM schemas/${file.replace(/\.ts$/, '.avsc')} — do not edit; run pnpm --filter @labelstream/contracts gen`,
      );
    }
  });

  it('embed exactly the schema files', () => {
    const { customerEventSchema, labelDecisionSchema, labelEventSchema, customerLabelsSchema } =
      require('./index') as typeof import('./index');
    const schemasDir = join(__dirname, '../../../schemas');
    const read = (f: string): unknown => JSON.parse(readFileSync(join(schemasDir, f), 'utf8'));
    expect(customerEventSchema).toEqual(read('customer-event.avsc'));
    expect(labelDecisionSchema).toEqual(read('label-decision.avsc'));
    expect(labelEventSchema).toEqual(read('label-event.avsc'));
    expect(customerLabelsSchema).toEqual(read('customer-labels.avsc'));
  });
});
