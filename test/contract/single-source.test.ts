import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import * as contract from '../../contract';

const root = path.resolve(__dirname, '..', '..');

/** Every TypeScript source file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

/** The string values of the contract: every name one side writes and another reads. */
function contractStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(contractStrings);
  return [];
}

test('GIVEN the constructs, runtime, CLI and local cloud THEN none spells a name of the contract as a string literal of its own', () => {
  // `id` and the like are too common a word to look for.
  const names = [...new Set(contractStrings(contract))].filter((name) => name.length > 3);
  expect(names).toEqual(expect.arrayContaining(['IDEMPOTENCY_TABLE_NAME', 'eda-kit.error', 'ProcessedRecords']));
  const copies: string[] = [];
  for (const folder of ['lib', 'lambdas/runtime', 'ops', 'local', 'bin', 'bench']) {
    for (const file of sources(path.join(root, folder))) {
      // Doc comments may name them; code may not.
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const name of names) {
        const quoted = code.includes(`'${name}'`) || code.includes(`"${name}"`) || code.includes(`\`${name}\``);
        // Property access spells a name too: `environment.DEAD_LETTER_QUEUE_URL`.
        const accessed = /^[A-Za-z_]\w*$/.test(name) && new RegExp(`\\.${name}\\b`).test(code);
        if (quoted || accessed) {
          copies.push(`${path.relative(root, file)}: '${name}'`);
        }
      }
    }
  }
  expect(copies).toEqual([]);
});
