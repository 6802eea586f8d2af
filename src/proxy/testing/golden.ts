/**
 * Golden-file comparison: the expected text lives in `testdata/<name>` beside the test and is
 * reviewed by hand. `UPDATE_GOLDEN=1` rewrites the files (then read the diff before keeping it).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';

export function assertGolden(dir: string, name: string, actual: string): void {
  const file = join(dir, 'testdata', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `golden ${name} differs (UPDATE_GOLDEN=1 to rewrite, then review)`);
}
