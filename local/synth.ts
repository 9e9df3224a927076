import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';

/** What the synth reads of an app's cdk.json. */
interface CdkJson {
  readonly app: string;
  readonly context?: Record<string, unknown>;
  readonly output?: string;
  readonly watch?: { readonly include?: string | string[]; readonly exclude?: string | string[] };
}

/** How {@link synthesize} runs the app. */
export interface SynthesizeOptions {
  /**
   * Runs this command instead of the `app` of cdk.json.
   *
   * @default - the `app` of cdk.json
   */
  readonly appCommand?: string;
  /**
   * Copy the assembly of an earlier synth of the same inputs instead of running the app again. The inputs: the files
   * `cdk watch` watches (the `watch` patterns of cdk.json; every file of the app's folder without them) and every
   * code file (`.js`, `.ts`, `.json`... wherever it is, compiled output included), cdk.json, cdk.context.json,
   * package.json, tsconfig.json and the lockfiles, the command, the context, the environment (but for variables that
   * change with every shell, such as `PWD` or `npm_*`) and the Node.js version. The assemblies are kept in
   * `.local/synth/` of the app's folder. `EDA_KIT_SYNTH=always` in the environment turns it off.
   *
   * @default - true for the `app` of cdk.json; false with `appCommand`, whose inputs cdk.json does not describe
   */
  readonly reuse?: boolean;
  /**
   * Told when an earlier assembly is reused instead of running the app.
   *
   * @default - one line on stderr
   */
  readonly onNotice?: (message: string) => void;
}

/** What {@link synthesize} did. */
export interface SynthesisOutcome {
  /** Whether the assembly was copied from an earlier synth of the same inputs instead of running the app. */
  readonly reused: boolean;
}

/** Assemblies kept per app: a few, so that switching between branches or settings does not synthesize each time. */
const KEPT_ASSEMBLIES = 4;
/** Changes whenever what goes into the key changes, so that an older kept assembly is never taken for a new one. */
const KEY_VERSION = 2;
/** Files that shape the synth whatever `watch` says: settings, dependencies, compiler options. */
const ALWAYS_HASHED = [
  'cdk.json',
  'cdk.context.json',
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'tsconfig.json',
  // npm rewrites it on every install: what node_modules holds, versions and integrity included.
  path.join('node_modules', '.package-lock.json'),
];
/** Environment variables that differ from one shell or runner to the next and that no app reads to synthesize. */
const VOLATILE_ENVIRONMENT =
  /^(?:_|OLDPWD|PWD|SHLVL|INIT_CWD|COLUMNS|LINES|TERM|TERM_.*|COLORTERM|LS_COLORS|SSH_.*|TMUX.*|STY|WINDOW|DISPLAY|npm_.*|NODE_CHANNEL_.*|NODE_UNIQUE_ID|VITEST.*|JEST_WORKER_ID|TEST_WORKER_INDEX|CDK_OUTDIR|CDK_CONTEXT_JSON)$/;

/**
 * Synthesizes the app into `outdir` the way `cdk synth` does, without the CLI's own start-up: runs the `app`
 * command of cdk.json with the context of cdk.context.json and cdk.json, plus what the CLI adds (construct paths
 * and asset metadata, which the local cloud reads). `outdir` is emptied first (created if missing), so it holds this
 * assembly only. Rejects with the app's output when it fails.
 *
 * When nothing the synth reads has changed since an earlier one (see {@link SynthesizeOptions.reuse}), the assembly
 * that synth wrote is copied into `outdir` instead, and `onNotice` says so: a start of the local cloud then skips
 * the seconds the app takes to synthesize.
 *
 * @param appCommand - replaces cdk.json's `app` (a string), or the options
 */
export async function synthesize(
  projectDir: string,
  outdir: string,
  appCommand?: string | SynthesizeOptions,
): Promise<SynthesisOutcome> {
  const options: SynthesizeOptions = typeof appCommand === 'string' ? { appCommand } : (appCommand ?? {});
  const cdkJson = JSON.parse(readFileSync(path.join(projectDir, 'cdk.json'), 'utf8')) as CdkJson;
  const command = options.appCommand ?? cdkJson.app;
  // cdk.context.json holds the lookups the CLI cached (VPCs, AMIs...): the CLI passes them to the app too.
  const contextFile = path.join(projectDir, 'cdk.context.json');
  const cached = existsSync(contextFile)
    ? (JSON.parse(readFileSync(contextFile, 'utf8')) as Record<string, unknown>)
    : {};
  const context = {
    ...cached,
    ...cdkJson.context,
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:enable-asset-metadata': true,
    'aws:cdk:version-reporting': false,
  };

  const reuse =
    (options.reuse ?? options.appCommand === undefined) && process.env.EDA_KIT_SYNTH?.toLowerCase() !== 'always';
  const keptDir = path.join(projectDir, '.local', 'synth');
  const key = reuse ? inputsKey(projectDir, outdir, command, context, cdkJson) : undefined;
  // The folder holds this synth's assembly and nothing else: what an earlier one left (the assets of an older
  // version of the app) would be kept with it, and copied on every reuse.
  emptyOutdir(projectDir, outdir);
  if (key !== undefined) {
    const kept = path.join(keptDir, key);
    if (copyKept(kept, outdir)) {
      (options.onNotice ?? ((message) => process.stderr.write(`${message}\n`)))(
        `Reused the cloud assembly of an earlier synth (${path.relative(process.cwd(), kept) || kept}): nothing ` +
          'it was made from has changed (the files cdk.json watches, its context, the lockfile, the environment). ' +
          'EDA_KIT_SYNTH=always synthesizes every time.',
      );
      return { reused: true };
    }
  }

  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, {
      cwd: projectDir,
      shell: true,
      env: { ...process.env, CDK_OUTDIR: path.resolve(outdir), CDK_CONTEXT_JSON: JSON.stringify(context) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`Synthesis failed (exit ${code}):\n${output.trim()}`)),
    );
  });
  if (key !== undefined) keep(outdir, keptDir, key);
  return { reused: false };
}

/** A digest of everything the synth of the app reads, as far as it can be known from outside the app. */
function inputsKey(
  projectDir: string,
  outdir: string,
  command: string,
  context: Record<string, unknown>,
  cdkJson: CdkJson,
): string {
  const hash = createHash('sha256');
  const environment = Object.entries(process.env)
    .filter(([name]) => !VOLATILE_ENVIRONMENT.test(name))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  hash.update(
    JSON.stringify({
      version: KEY_VERSION,
      node: process.version,
      command,
      context,
      environment,
      dir: path.resolve(projectDir),
    }),
  );
  const files = new Set(watchedFiles(projectDir, outdir, cdkJson));
  for (const file of ALWAYS_HASHED)
    if (existsSync(path.join(projectDir, file))) files.add(file.split(path.sep).join('/'));
  for (const file of [...files].sort()) {
    hash.update(`\0${file}\0`);
    hash.update(readFileSync(path.join(projectDir, file)));
  }
  return hash.digest('hex').slice(0, 32);
}

/** Files an app's command may run or load: hashed wherever they are, whatever cdk.json's `watch` leaves out. */
const CODE_FILE = /\.(?:[cm]?[jt]s|[jt]sx|json)$/;

/**
 * The files a synth may read, relative to the app's folder with `/` separators: those `cdk watch` watches (the
 * `include` patterns of cdk.json's `watch`, every file without them, less its `exclude` patterns), and every code
 * file besides: `watch` usually leaves out compiled JavaScript, which an app run as `node bin/app.js` reads. Dot
 * files and folders, `node_modules` folders and the output folders are left out, as the CLI leaves them out.
 */
function watchedFiles(projectDir: string, outdir: string, cdkJson: CdkJson): string[] {
  const included = globMatcher([cdkJson.watch?.include ?? '**'].flat());
  const excluded = globMatcher([cdkJson.watch?.exclude ?? []].flat());
  const skippedDirs = new Set(
    [cdkJson.output ?? 'cdk.out', path.relative(projectDir, path.resolve(outdir))].map((dir) =>
      path.normalize(dir).split(path.sep).join('/'),
    ),
  );
  const found: string[] = [];
  // A folder a pattern matches covers everything in it, as the CLI's watcher takes or leaves a folder whole: what
  // the folders above matched is carried down the walk, not matched again for every file.
  const walk = (relativeDir: string, folderIncluded: boolean, folderExcluded: boolean) => {
    for (const entry of readdirSync(path.join(projectDir, relativeDir), { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      const isIncluded = () => folderIncluded || included(relative);
      const isExcluded = () => folderExcluded || excluded(relative);
      if (entry.isDirectory()) {
        if (!skippedDirs.has(relative)) walk(relative, isIncluded(), isExcluded());
      } else if (entry.isFile() && (CODE_FILE.test(entry.name) || (isIncluded() && !isExcluded()))) {
        found.push(relative);
      }
    }
  };
  walk('', false, false);
  return found;
}

/**
 * A matcher of cdk.json `watch` globs on a relative path, by picomatch with dot files matched, as the CLI's own
 * `watch` matches them. A pattern without `/` names a path from the app's folder (`test` is the top folder `test`,
 * not every folder of that name).
 */
function globMatcher(globs: readonly string[]): (relative: string) => boolean {
  return picomatch(
    globs.map((glob) => glob.replace(/^\.\//, '').replace(/\/$/, '')).filter((glob) => glob !== ''),
    { dot: true },
  );
}

/** Copies the assembly kept under `kept` into the empty `outdir`; false when there is none (or it went while copying). */
function copyKept(kept: string, outdir: string): boolean {
  if (!existsSync(path.join(kept, 'manifest.json'))) return false;
  try {
    copyTree(kept, outdir);
    // Most recently used: the last one pruned.
    const now = new Date();
    utimesSync(kept, now, now);
    return true;
  } catch {
    // Pruned by another start at this very moment: synthesize instead, from a clean folder.
    emptyDir(outdir);
    return false;
  }
}

/** Makes the output folder an empty one: created if missing, its contents removed if not; never the app's folder. */
function emptyOutdir(projectDir: string, outdir: string): void {
  const appFromOutdir = path.relative(path.resolve(outdir), path.resolve(projectDir));
  if (!appFromOutdir.startsWith('..') && !path.isAbsolute(appFromOutdir)) {
    throw new Error(`The assembly's folder (${outdir}) must not hold the app's folder (${projectDir})`);
  }
  emptyDir(outdir);
}

/** Makes `dir` an empty folder: created if missing, its contents removed if not. */
function emptyDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/** Copies the files of `from` into the folder `to`, folders included (fs.cpSync checks much more, and takes longer). */
function copyTree(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(target);
      copyTree(source, target);
    } else copyFileSync(source, target);
  }
}

/** Keeps a copy of the assembly in `outdir` as `keptDir/key`, and prunes all but the most recently used few. */
function keep(outdir: string, keptDir: string, key: string): void {
  try {
    mkdirSync(keptDir, { recursive: true });
    // Written aside and renamed into place: another start may read the kept assemblies at the same moment.
    const written = path.join(keptDir, `${key}.${process.pid}.tmp`);
    mkdirSync(written);
    copyTree(outdir, written);
    try {
      renameSync(written, path.join(keptDir, key));
    } catch {
      // Kept by another start of the same inputs meanwhile.
      rmSync(written, { recursive: true, force: true });
    }
    const kept = readdirSync(keptDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.endsWith('.tmp'))
      .map(({ name }) => ({ name, usedAt: statSync(path.join(keptDir, name)).mtimeMs }))
      .sort((a, b) => b.usedAt - a.usedAt);
    for (const { name } of kept.slice(KEPT_ASSEMBLIES))
      rmSync(path.join(keptDir, name), { recursive: true, force: true });
    writeFileSync(
      path.join(keptDir, 'README'),
      'Cloud assemblies of earlier synths of the app, reused by the local cloud while nothing they were made from ' +
        'changes. Safe to delete.\n',
    );
  } catch {
    // Keeping a copy is an optimisation: a start that cannot write here synthesizes next time as well.
  }
}
