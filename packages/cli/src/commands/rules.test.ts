import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createProgram } from '../program';

const ROOT = resolve(__dirname, '../../../..');

/** Runs `labelstream rules check …` in-process: what it prints and the exit code it sets. */
async function check(args: string[]): Promise<{ out: string; exitCode: number }> {
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void printed.push(a.join(' ')));
  const before = process.exitCode;
  try {
    await createProgram().parseAsync(['node', 'labelstream', 'rules', 'check', ...args]);
    return { out: printed.join('\n'), exitCode: Number(process.exitCode ?? 0) };
  } finally {
    log.mockRestore();
    process.exitCode = before;
  }
}

describe('labelstream rules check (printed output)', () => {
  it('prints a one-line summary of a valid file, its hash and its warnings', async () => {
    const file = join(ROOT, 'rules/default.yaml');
    const { out, exitCode } = await check([file]);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: OK — version \\S+, \\d+ features, 13 labels \\((\\w+ \\d+(, )?)+\\), \\d+ groups, lateness \\S+$`));
    expect(lines[1]).toMatch(/^hash [0-9a-f]{8,}$/);
    for (const l of lines.slice(2)) expect(l).toMatch(/^(\d+ warnings?:| {2}- \[[A-Z_]+\] .+)$/);
    expect(exitCode).toBe(0);
  });

  it('lists each error with where it is, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-rules-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: "x"\nfeatures:\n  a: { event: purchase, agg: count, window: lifetime }\nlabels:\n  b: { description: "b", category: value, when: "a >" }\n');
    const { out, exitCode } = await check([file]);
    expect(out).not.toContain(': OK');
    expect(out).toMatch(/^\d+ errors?:$/m);
    expect(out).toMatch(/labels\.b/);
    expect(exitCode).toBe(1);
  });

  it('--json prints the result as JSON', async () => {
    const { out } = await check([join(ROOT, 'rules/default.yaml'), '--json']);
    expect(JSON.parse(out)).toMatchObject({ ok: true, summary: { labels: 13 } });
  });
});
