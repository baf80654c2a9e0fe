import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const STACK_SH = resolve(__dirname, '../../../deploy/local/stack.sh');

/** The body of one shell function of stack.sh, to run on its own (stack.sh itself acts on its arguments). */
function shellFunction(name: string): string {
  const text = readFileSync(STACK_SH, 'utf8');
  const match = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?\\n\\}\\n`, 'm').exec(text);
  if (!match) throw new Error(`stack.sh has no function ${name}`);
  return match[0];
}

describe('stack.sh KRaft cluster id', () => {
  // One random id in 64 began with '-', which kafka-storage read as an option: a fresh
  // `stack.sh up` failed about once in 64 starts.
  it('draws again when the id would begin with "-"', () => {
    // The first draw yields bytes whose base64 begins with '+' (→ '-'); later draws are random.
    // `head` runs in a subshell of the pipeline: draws are counted in a file.
    const script = `${shellFunction('new_cluster_id')}
      log=$(mktemp); trap 'rm -f "$log"' EXIT
      head() { echo draw >>"$log"; if (($(wc -l <"$log") == 1)); then printf '\\xf8%.0s' {1..16}; else command head "$@"; fi; }
      id=$(new_cluster_id)
      echo "$id $(wc -l <"$log")"`;
    const [id, draws] = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split(' ');
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(Number(draws)).toBeGreaterThanOrEqual(2);
  });

  it('is 22 URL-safe base64 characters, random', () => {
    const script = `${shellFunction('new_cluster_id')}\nfor ((i = 0; i < 40; i++)); do new_cluster_id; done`;
    const ids = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(ids).toHaveLength(40);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(40);
  });

  it('is passed to the format tool in the --cluster-id=<id> form, which no leading character can break', () => {
    expect(readFileSync(STACK_SH, 'utf8')).toMatch(/StorageTool format --cluster-id="\$cid"/);
  });
});
