/**
 * Headless Chromium (Debian's package) for tests that look at a page as a person would:
 * the DOM after rendering, and a screenshot kept as an artifact. scripts/ensure-chromium.sh
 * installs it (scripts/test.sh runs it); a missing browser fails the test with that advice
 * rather than skipping it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error('Chromium is not installed: run `bash scripts/ensure-chromium.sh` (as root it installs Debian\'s chromium; scripts/test.sh does this)');
  return found;
}

async function chromium(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'labelstream-chromium-'));
  try {
    const flags = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
    ];
    const { stdout } = await run(chromiumPath(), [...flags, ...args], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM after load (its scripts have run). */
export function dumpDom(file: string): Promise<string> {
  return chromium(['--virtual-time-budget=2000', '--dump-dom', `file://${file}`]);
}

/** A PNG of the page at `width`×`height` CSS pixels. */
export async function screenshot(file: string, png: string, width = 1000, height = 2600): Promise<void> {
  await chromium([`--window-size=${width},${height}`, `--screenshot=${png}`, `file://${file}`]);
}
