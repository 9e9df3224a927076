import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { synthesize } from '../../local/synth';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * A stand-in for a CDK app: writes a cloud assembly whose manifest holds what the app read (its source file, the
 * context it was given), and counts its runs in a dot file, which no watch pattern covers.
 */
function appDir(cdkJson: Record<string, unknown> = {}): string {
  const dir = temporaryDir('eda-kit-synth-app-');
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src', 'stack.txt'), 'one queue');
  writeFileSync(path.join(dir, 'README.md'), 'An app.');
  writeFileSync(
    path.join(dir, 'app.js'),
    `const fs = require('node:fs');
const path = require('node:path');
const runs = Number(fs.existsSync('.runs') ? fs.readFileSync('.runs', 'utf8') : 0) + 1;
fs.writeFileSync('.runs', String(runs));
if (process.env.FAIL_SYNTH) { console.error('the app threw'); process.exit(3); }
const outdir = process.env.CDK_OUTDIR;
fs.mkdirSync(path.join(outdir, 'asset.1'), { recursive: true });
fs.writeFileSync(path.join(outdir, 'asset.1', 'index.js'), 'exports.handler = async () => 1;');
fs.writeFileSync(path.join(outdir, 'manifest.json'), JSON.stringify({
  stack: fs.readFileSync('src/stack.txt', 'utf8'),
  stage: JSON.parse(process.env.CDK_CONTEXT_JSON).stage,
  run: runs,
}));
`,
  );
  writeFileSync(
    path.join(dir, 'cdk.json'),
    JSON.stringify({ app: 'node app.js', context: { stage: 'dev' }, ...cdkJson }),
  );
  return dir;
}

const runsOf = (dir: string) => Number(readFileSync(path.join(dir, '.runs'), 'utf8'));
const manifestOf = (outdir: string) => JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));

describe('synthesize, reusing the assembly of an earlier synth of the same inputs', () => {
  const notices: string[] = [];
  const onNotice = (message: string) => notices.push(message);
  let previous: string | undefined;

  beforeEach(() => {
    notices.length = 0;
    previous = process.env.EDA_KIT_SYNTH;
    delete process.env.EDA_KIT_SYNTH;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.EDA_KIT_SYNTH;
    else process.env.EDA_KIT_SYNTH = previous;
  });

  test('GIVEN an app synthesized once WHEN nothing it reads has changed THEN its assembly is copied, the app does not run, and the notice says so', async () => {
    // Prepare
    const app = appDir();
    const first = temporaryDir('eda-kit-synth-out-');
    const second = temporaryDir('eda-kit-synth-out-');
    expect(await synthesize(app, first, { onNotice })).toEqual({ reused: false });

    // Act
    const outcome = await synthesize(app, second, { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: true });
    expect(runsOf(app)).toBe(1);
    expect(manifestOf(second)).toEqual({ stack: 'one queue', stage: 'dev', run: 1 });
    expect(readFileSync(path.join(second, 'asset.1', 'index.js'), 'utf8')).toBe('exports.handler = async () => 1;');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(
      /^Reused the cloud assembly of an earlier synth \(.*\): nothing it was made from has changed/,
    );
    expect(notices[0]).toContain('EDA_KIT_SYNTH=always synthesizes every time');
  });

  test('GIVEN the folder the first synth wrote WHEN synthesized into it again THEN the kept assembly replaces what it holds', async () => {
    // Prepare: a start that writes into the same folder each time, with a file an older assembly left there
    const app = appDir();
    const outdir = temporaryDir('eda-kit-synth-out-');
    await synthesize(app, outdir, { onNotice });
    writeFileSync(path.join(outdir, 'left-by-an-older-synth.json'), '{}');

    // Act
    const outcome = await synthesize(app, outdir, { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: true });
    expect(runsOf(app)).toBe(1);
    expect(readdirSync(outdir).sort()).toEqual(['asset.1', 'manifest.json']);
    expect(manifestOf(outdir)).toEqual({ stack: 'one queue', stage: 'dev', run: 1 });
  });

  test('GIVEN a folder an older assembly left files in WHEN the app is synthesized into it THEN it holds this assembly only, and so does the copy kept', async () => {
    // Prepare
    const app = appDir();
    const outdir = temporaryDir('eda-kit-synth-out-');
    mkdirSync(path.join(outdir, 'asset.0'));
    writeFileSync(path.join(outdir, 'asset.0', 'index.js'), 'exports.handler = async () => 0;');

    // Act
    const outcome = await synthesize(app, outdir, { onNotice });
    const reusedInto = temporaryDir('eda-kit-synth-out-');
    await synthesize(app, reusedInto, { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: false });
    expect(readdirSync(outdir).sort()).toEqual(['asset.1', 'manifest.json']);
    expect(readdirSync(reusedInto).sort()).toEqual(['asset.1', 'manifest.json']);
  });

  test('refuses an assembly folder that holds the app, before removing anything', async () => {
    const app = appDir();
    await expect(synthesize(app, app, { onNotice })).rejects.toThrow(/must not hold the app's folder/);
    expect(existsSync(path.join(app, 'cdk.json'))).toBe(true);
  });

  test('GIVEN a kept assembly WHEN the folder to synthesize into does not exist THEN it is created and the assembly copied there', async () => {
    // Prepare
    const app = appDir();
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    const outdir = path.join(temporaryDir('eda-kit-synth-out-'), 'not', 'yet');

    // Act
    const outcome = await synthesize(app, outdir, { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: true });
    expect(manifestOf(outdir)).toEqual({ stack: 'one queue', stage: 'dev', run: 1 });
  });

  test('GIVEN an app synthesized once WHEN one of its source files changes THEN it is synthesized again', async () => {
    // Prepare
    const app = appDir();
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    writeFileSync(path.join(app, 'src', 'stack.txt'), 'two queues');
    const outdir = temporaryDir('eda-kit-synth-out-');

    // Act
    const outcome = await synthesize(app, outdir, { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: false });
    expect(runsOf(app)).toBe(2);
    expect(manifestOf(outdir).stack).toBe('two queues');
    expect(notices).toEqual([]);
  });

  test('GIVEN an app synthesized once WHEN its context changes (cdk.context.json) THEN it is synthesized again', async () => {
    // Prepare
    const app = appDir();
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    writeFileSync(path.join(app, 'cdk.context.json'), JSON.stringify({ stage: 'prod' }));
    const outdir = temporaryDir('eda-kit-synth-out-');

    // Act
    const outcome = await synthesize(app, outdir, { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: false });
    // cdk.json's context wins over the cached lookups, as with the CLI.
    expect(manifestOf(outdir)).toMatchObject({ stage: 'dev', run: 2 });
  });

  test('GIVEN watch patterns in cdk.json WHEN only a file they exclude changes THEN the assembly is reused', async () => {
    // Prepare
    const app = appDir({ watch: { include: ['**'], exclude: ['README.md', 'docs'] } });
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    writeFileSync(path.join(app, 'README.md'), 'An app, documented.');
    mkdirSync(path.join(app, 'docs'));
    writeFileSync(path.join(app, 'docs', 'guide.md'), 'How to.');

    // Act
    const outcome = await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: true });
    expect(runsOf(app)).toBe(1);
  });

  test.each([
    { changed: 'src/notes.md', reused: true },
    { changed: 'src/deep/fixtures/case.txt', reused: true },
    { changed: 'src/stack.txt', reused: false },
  ])(
    'GIVEN watch patterns with braces and nested globs WHEN $changed changes THEN reused is $reused',
    async ({ changed, reused }) => {
      // Prepare
      const app = appDir({ watch: { include: ['src/**', '*.json'], exclude: ['**/*.{md,snap}', 'src/**/fixtures'] } });
      mkdirSync(path.join(app, 'src', 'deep', 'fixtures'), { recursive: true });
      writeFileSync(path.join(app, 'src', 'notes.md'), 'Notes.');
      writeFileSync(path.join(app, 'src', 'deep', 'fixtures', 'case.txt'), 'A case.');
      await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
      writeFileSync(path.join(app, changed), 'changed');

      // Act
      const outcome = await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });

      // Assess
      expect(outcome).toEqual({ reused });
    },
  );

  test('GIVEN watch patterns that leave out compiled JavaScript WHEN only the compiled app changes THEN it is synthesized again', async () => {
    // Prepare: the app run as `node app.js`, with cdk.json's watch leaving out every .js file, as `cdk init` writes it
    const app = appDir({ watch: { include: ['**'], exclude: ['**/*.js', 'README.md'] } });
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    const compiled = path.join(app, 'app.js');
    writeFileSync(
      compiled,
      readFileSync(compiled, 'utf8').replace("fs.readFileSync('src/stack.txt', 'utf8')", "'rebuilt'"),
    );
    const outdir = temporaryDir('eda-kit-synth-out-');

    // Act
    const outcome = await synthesize(app, outdir, { onNotice });

    // Assess: an assembly of the app as it was before its build would be stale
    expect(outcome).toEqual({ reused: false });
    expect(manifestOf(outdir).stack).toBe('rebuilt');
  });

  test('GIVEN watch patterns that leave out the lockfile WHEN the dependencies change THEN it is synthesized again', async () => {
    // Prepare
    const app = appDir({ watch: { include: ['src/**'], exclude: ['package*.json'] } });
    writeFileSync(path.join(app, 'package-lock.json'), '{"lockfileVersion":3}');
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    writeFileSync(path.join(app, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}');

    // Act
    const outcome = await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: false });
  });

  test('GIVEN EDA_KIT_SYNTH=always THEN the app runs every time', async () => {
    // Prepare
    const app = appDir();
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    process.env.EDA_KIT_SYNTH = 'always';

    // Act
    const outcome = await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });

    // Assess
    expect(outcome).toEqual({ reused: false });
    expect(runsOf(app)).toBe(2);
  });

  test('GIVEN an app command instead of cdk.json app THEN the app runs every time: cdk.json does not say what it reads', async () => {
    // Prepare
    const app = appDir();
    await synthesize(app, temporaryDir('eda-kit-synth-out-'), 'node app.js');

    // Act
    const outcome = await synthesize(app, temporaryDir('eda-kit-synth-out-'), 'node app.js');

    // Assess
    expect(outcome).toEqual({ reused: false });
    expect(runsOf(app)).toBe(2);
  });

  test('GIVEN many different inputs in turn THEN only the four assemblies used last are kept', async () => {
    // Prepare
    const app = appDir();

    // Act
    for (let i = 0; i < 6; i++) {
      writeFileSync(path.join(app, 'src', 'stack.txt'), `queue ${i}`);
      await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });
    }
    writeFileSync(path.join(app, 'src', 'stack.txt'), 'queue 5');
    const outcome = await synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });

    // Assess
    const kept = readdirSync(path.join(app, '.local', 'synth'), { withFileTypes: true }).filter((entry) =>
      entry.isDirectory(),
    );
    expect(kept).toHaveLength(4);
    expect(outcome).toEqual({ reused: true });
  });

  test('fails when the app fails: with its output, and nothing is kept', async () => {
    // Prepare
    const app = appDir();
    process.env.FAIL_SYNTH = '1';

    // Act
    const synth = synthesize(app, temporaryDir('eda-kit-synth-out-'), { onNotice });

    // Assess
    try {
      await expect(synth).rejects.toThrow('Synthesis failed (exit 3):\nthe app threw');
      expect(existsSync(path.join(app, '.local', 'synth'))).toBe(false);
    } finally {
      delete process.env.FAIL_SYNTH;
    }
  });
});
