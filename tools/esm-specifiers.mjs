/**
 * Rewrites the relative import specifiers of the ES module build into full file paths (`./consumer` to
 * `./consumer.js`, `../../contract` to `../../contract/index.js`), as Node.js and webpack require of ES modules.
 * The sources keep extensionless specifiers, which the CommonJS build needs.
 *
 * Usage: node tools/esm-specifiers.mjs dist/esm
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;

function javaScriptFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return javaScriptFiles(file);
    return file.endsWith('.js') ? [file] : [];
  });
}

const root = process.argv[2];
if (!root || !existsSync(root)) {
  console.error(`usage: node tools/esm-specifiers.mjs <folder of the ES module build>, got '${root ?? ''}'`);
  process.exit(2);
}
for (const file of javaScriptFiles(root)) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(RELATIVE_SPECIFIER, (_whole, lead, quote, specifier) => {
    const target = path.resolve(path.dirname(file), specifier);
    if (existsSync(`${target}.js`)) return `${lead}${quote}${specifier}.js${quote}`;
    if (existsSync(path.join(target, 'index.js'))) return `${lead}${quote}${specifier}/index.js${quote}`;
    throw new Error(`${file}: the import '${specifier}' names no file of the build`);
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
}
