import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';

interface PackedFile {
  readonly path: string;
}

const root = path.resolve(__dirname, '..', '..');

/**
 * The package as `npm publish` would send it. `npm test` builds dist/ first; packing skips the `prepack` build so that
 * test files packing at the same time never rebuild dist/ under each other.
 */
function pack(): { tarball: string; files: string[] } {
  const destination = mkdtempSync(path.join(tmpdir(), 'eda-kit-pack-'));
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], {
      cwd: root,
      encoding: 'utf8',
    }),
  ) as { filename: string; files: PackedFile[] }[];
  return { tarball: path.join(destination, packed.filename), files: packed.files.map((file) => file.path) };
}

describe('the npm package', () => {
  let tarball: string;
  let files: string[];
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

  beforeAll(() => {
    ({ tarball, files } = pack());
  });

  test('ships the compiled entries, the CLI, the README and the LICENSE', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lambdas/runtime/index.js',
        'dist/lambdas/runtime/index.d.ts',
        'dist/esm/lambdas/runtime/index.js',
        'dist/esm/package.json',
        'dist/contract/index.js',
        'dist/local/index.js',
        'dist/local/index.d.ts',
        'dist/local/lambda-worker.js',
        'dist/local/emulator-process.js',
        'dist/bin/eda-kit.js',
      ]),
    );
  });

  test('ships no TypeScript sources, reference app, reference workload, benchmarks, examples or tests', () => {
    const unwanted = files.filter(
      (file) =>
        (file.endsWith('.ts') && !file.endsWith('.d.ts')) ||
        /^(dist\/)?(lib\/stacks|lambdas\/(?!runtime)|workload|bench|examples|test|tools)\//.test(file),
    );
    expect(unwanted).toEqual([]);
  });

  test('lists the emulators as optional peers: installing the constructs does not install them', () => {
    for (const emulator of ['dynalite', 'kinesalite', 'local-aws-sqs']) {
      expect(manifest.peerDependencies[emulator], emulator).toMatch(/^\^\d/);
      expect(manifest.peerDependenciesMeta[emulator], emulator).toEqual({ optional: true });
      expect(manifest.dependencies[emulator], emulator).toBeUndefined();
    }
    // Loading the local cloud's entry needs none of them: they load when emulators start.
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(path.join(root, 'dist/local/index.js'))});
         const emulators = ['dynalite', 'kinesalite', 'local-aws-sqs'].map((name) => '/node_modules/' + name + '/');
         console.log(Object.keys(require.cache).filter((f) => emulators.some((dir) => f.includes(dir))).length)`,
      ],
      { encoding: 'utf8' },
    );
    expect(loaded.trim()).toBe('0');
  });

  test('the ES module build of the runtime loads as ES modules in Node.js, every import a full path', () => {
    // Bundlers pick it through the `module` condition; webpack, like Node.js, needs full paths in ES modules.
    const loaded = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(path.join(root, 'dist/esm/lambdas/runtime/index.js'))}); console.log(Object.keys(m).sort().join(','))`,
      ],
      { encoding: 'utf8' },
    );
    const commonJs = Object.keys(require(path.join(root, 'dist/lambdas/runtime/index.js'))).sort();
    expect(loaded.trim().split(',')).toEqual(commonJs);
    expect(manifest.exports['./runtime'].module).toBe('./dist/esm/lambdas/runtime/index.js');
  });

  test('the CLI is compiled JavaScript run by node', () => {
    expect(manifest.bin).toEqual({ 'eda-kit': 'dist/bin/eda-kit.js' });
    const cli = readFileSync(path.join(root, 'dist', 'bin', 'eda-kit.js'), 'utf8');
    expect(cli.split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('is installable: not private, aws-cdk-lib and constructs as peers with a range, exact pins only for development', () => {
    expect(manifest.private).toBeUndefined();
    for (const peer of ['aws-cdk-lib', 'constructs', '@aws-lambda-powertools/idempotency', 'valibot']) {
      expect(manifest.peerDependencies[peer], peer).toMatch(/^\^\d/);
      expect(manifest.dependencies[peer], peer).toBeUndefined();
      expect(manifest.devDependencies[peer], peer).toMatch(/^\d/);
    }
    expect(manifest.dependencies['cdk-nag']).toBeUndefined();
  });

  test('passes publint, strict', async () => {
    const { publint } = await import('publint');
    const { formatMessage } = await import('publint/utils');
    const { messages, pkg } = await publint({
      pack: { tarball: readFileSync(tarball).buffer as ArrayBuffer },
      strict: true,
    });
    expect(messages.map((message) => formatMessage(message, pkg))).toEqual([]);
  });

  test('passes arethetypeswrong for every entry under node10, node16 (CJS and ESM) and bundler resolution', () => {
    const output = execFileSync(path.join(root, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'json'], {
      cwd: root,
      encoding: 'utf8',
    });
    const report = JSON.parse(output) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints)).toEqual(
      expect.arrayContaining(['.', './runtime', './local', './package.json']),
    );
  });
});

describe('the API reference', () => {
  test('TypeDoc documents every entry with no exported name, member or link left undocumented', () => {
    // `treatValidationWarningsAsErrors` with `notDocumented` in tools/api-docs/typedoc.json: any gap fails the run.
    const output = execFileSync('npm', ['run', 'docs', '--silent', '--', '--emit', 'none'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(output).not.toMatch(/warning|error/i);
  }, 120_000);
});
