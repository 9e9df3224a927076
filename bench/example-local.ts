import { type ChildProcessByStdio, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../ops/endpoint-clients';
import { copyExampleWithTarball } from '../test/helpers/example-app';
import { type LocalRun, reportResults } from './local';
import { type BenchResult, median, ratioResult, round, runsFlag } from './results';

/**
 * A user's first minute with the kit, against the reference app's: seconds from `npx eda-kit local --serve` in the
 * user-activity example (installed from the packed kit, outside the repository) to its first event processed,
 * one sign-up sent to the single endpoint the moment it serves; and seconds from `npm start` to the reference
 * app's first event processed, in the same run. Each the median of `--runs` runs, alternated.
 */
const ROOT = path.resolve(__dirname, '..');

/** Long enough for a synth and the emulators on a busy two-core machine; a hang is a failure, not a figure. */
const SERVE_TIMEOUT_SECONDS = 180;
const FIRST_EVENT_TIMEOUT_SECONDS = 60;

/**
 * The environment of a user's shell: without AWS settings (the example must find nothing but its own endpoint)
 * and without what `npm run` tells its scripts about the root package.
 */
function userEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(AWS_|POWERTOOLS_|npm_package_|npm_lifecycle_|INIT_CWD$|EDA_KIT_BENCH_)/.test(name),
    ),
  );
}

/** Runs a setup command that must succeed; its stdout. */
function setupStep(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      env: userEnvironment(),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed (exit ${failed.status}):\n${failed.stdout}${failed.stderr}`.slice(0, 20_000),
    );
  }
}

/**
 * Sets the example up in `work` as test/examples/user-activity.test.ts does: the kit packed as npm publishes it,
 * the example copied outside the repository (no node_modules above it) with its dependency on the kit pointed at
 * the tarball, installed and compiled. Returns the example's folder.
 */
export function installExample(work: string): string {
  const missing = ['dist/lib/index.js', 'dist/bin/eda-kit.js'].filter((file) => !existsSync(path.join(ROOT, file)));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` first`);
  // No prepack: dist/ is built, and rebuilding it here would pull it from under anything that loads it.
  const pack = setupStep('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  const tarball = path.join(work, (JSON.parse(pack) as { filename: string }[])[0].filename);
  const appDir = copyExampleWithTarball(work, tarball);
  setupStep('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], appDir);
  setupStep('npm', ['run', 'build'], appDir);
  return appDir;
}

/** A command whose output is watched for lines, each timed from the spawn. */
class WatchedProcess {
  private readonly started = performance.now();
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private readonly exited: Promise<number | null>;
  private output = '';

  constructor(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk) => (this.output += chunk));
    this.child.stderr.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /**
   * Resolves with the first match of `pattern` in the output and the seconds since the spawn when it came;
   * rejects, with the output, when the process ends first or `timeoutSeconds` pass.
   */
  waitFor(pattern: RegExp, timeoutSeconds: number): Promise<{ match: RegExpMatchArray; seconds: number }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        // Timed when the chunk arrives, not on a polling tick: the figure is this clock's.
        const match = pattern.exec(this.output);
        if (match) done(() => resolve({ match, seconds: (performance.now() - this.started) / 1000 }));
      };
      const fail = (why: string) => done(() => reject(new Error(`${why} before ${pattern}:\n${this.output}`)));
      const onExit = (code: number | null) => fail(`exit ${code}`);
      const timer = setTimeout(() => fail(`${timeoutSeconds} s passed`), timeoutSeconds * 1000);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.child.stdout.off('data', check);
        this.child.stderr.off('data', check);
        this.child.off('exit', onExit);
        settle();
      };
      this.child.stdout.on('data', check);
      this.child.stderr.on('data', check);
      this.child.on('exit', onExit);
      if (this.child.exitCode !== null) onExit(this.child.exitCode);
      else check();
    });
  }

  /** Waits for the process to end by itself; its exit code. */
  async exit(): Promise<number | null> {
    return this.exited;
  }

  /** Ctrl-C, as a user stops it; the exit code. Killed after 30 s, which leaves its emulators behind: a failure. */
  async interrupt(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** What it printed so far. */
  get printed(): string {
    return this.output;
  }
}

/**
 * One `eda-kit local --serve --port 0` in the example: seconds from the spawn to `First event processed
 * (welcome-email)`, one valid sign-up sent to its sign-ups queue through the single endpoint as soon as it serves.
 */
export async function edaKitLocalFirstEvent(appDir: string): Promise<number> {
  const local = new WatchedProcess(
    path.join(appDir, 'node_modules', '.bin', 'eda-kit'),
    ['local', '--serve', '--port', '0'],
    appDir,
    userEnvironment(),
  );
  try {
    const served = await local.waitFor(/AWS_ENDPOINT_URL=(http:\/\/127\.0\.0\.1:\d+)/, SERVE_TIMEOUT_SECONDS);
    // Written before the endpoint is announced, on every start: this run's.
    const endpoints = JSON.parse(readFileSync(path.join(appDir, '.local', 'endpoints.json'), 'utf8'));
    const resources = Object.values(
      endpoints.resources.UserActivity as Record<
        string,
        { type: string; ref: string; attributes: Record<string, string> }
      >,
    );
    const queue = resources.find(
      (resource) => resource.type === 'AWS::SQS::Queue' && resource.attributes.QueueName?.includes('SignUpsQueue'),
    );
    if (!queue) throw new Error(`no sign-ups queue in ${appDir}/.local/endpoints.json`);
    const sqs = new SQSClient({ endpoint: served.match[1], region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.ref,
          MessageBody: JSON.stringify({
            type: 'UserSignedUp',
            eventId: randomUUID(),
            userId: 'u-bench',
            email: 'bench@example.com',
            displayName: 'Bench',
            signedUpAt: new Date().toISOString(),
          }),
        }),
      );
    } finally {
      sqs.destroy();
    }
    const { seconds } = await local.waitFor(/First event processed \(welcome-email\)/, FIRST_EVENT_TIMEOUT_SECONDS);
    const code = await local.interrupt();
    if (code !== 0) throw new Error(`eda-kit local exited ${code} on Ctrl-C:\n${local.printed}`);
    return seconds;
  } finally {
    // On a failure: nothing left running.
    await local.interrupt();
  }
}

/**
 * One `npm start -- --orders 1` of the reference app (workload/start.ts, as bench/local.ts runs it): its report's
 * `firstEventSeconds`, and the seconds from the spawn to its `First event processed` line, for comparison.
 *
 * @param synth - `reuse`: as a user starts it again, the assembly of an earlier synth reused while the app is
 *   unchanged; `always`: synthesized on this start (`EDA_KIT_SYNTH=always`), as after a change to the app.
 */
export async function npmStartFirstEvent(
  synth: 'reuse' | 'always' = 'reuse',
): Promise<{ reported: number; fromSpawn: number }> {
  const jsonFile = path.join(tmpdir(), `eda-kit-first-event-${process.pid}.json`);
  try {
    const start = new WatchedProcess(
      process.execPath,
      ['--import', 'tsx', 'workload/start.ts', '--orders', '1', '--json', jsonFile],
      ROOT,
      synth === 'always' ? { ...process.env, EDA_KIT_SYNTH: 'always' } : process.env,
    );
    const { seconds: fromSpawn } = await start
      .waitFor(/First event processed \(/, SERVE_TIMEOUT_SECONDS)
      .catch(async (error: unknown) => {
        await start.interrupt();
        throw error;
      });
    const code = await start.exit();
    if (code !== 0) throw new Error(`npm start exited ${code}:\n${start.printed}`);
    const report: Partial<LocalRun> = JSON.parse(readFileSync(jsonFile, 'utf8'));
    if (report.firstEventSeconds === undefined) throw new Error(`npm start reported no first event:\n${start.printed}`);
    return { reported: report.firstEventSeconds, fromSpawn };
  } finally {
    rmSync(jsonFile, { force: true });
  }
}

/** Sets the example up once, then measures both, alternated, `runs` times each. */
export async function measureExampleFirstEvent(runs: number): Promise<BenchResult[]> {
  const work = mkdtempSync(path.join(tmpdir(), 'eda-kit-bench-example-'));
  try {
    const setupStarted = performance.now();
    console.log('example: packing the kit, installing and building the user-activity example...');
    const appDir = installExample(work);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    const example: number[] = [];
    const reference: { reported: number; fromSpawn: number }[] = [];
    const synthesizing: { reported: number; fromSpawn: number }[] = [];
    // Not measured: a start that keeps the reference app's assembly, so that the starts measured as unchanged reuse it.
    await npmStartFirstEvent();
    // Alternated, so that a machine that slows down (or warms up) during the run weighs on all alike.
    for (let run = 0; run < runs; run++) {
      console.log(`example: eda-kit local, run ${run + 1} of ${runs}...`);
      example.push(await edaKitLocalFirstEvent(appDir));
      console.log(`example: npm start, run ${run + 1} of ${runs}...`);
      reference.push(await npmStartFirstEvent());
      console.log(`example: npm start with EDA_KIT_SYNTH=always, run ${run + 1} of ${runs}...`);
      synthesizing.push(await npmStartFirstEvent('always'));
    }
    const local = median(example);
    const start = median(reference.map((r) => r.reported));
    const startSynthesizing = median(synthesizing.map((r) => r.reported));
    const list = (values: number[]) => values.map((value) => `${value.toFixed(1)} s`).join(', ');
    return [
      {
        name: 'local.firstEvent.edaKitLocalExample',
        value: round(local),
        unit: 's',
        note:
          `median of ${runs} run(s) (${list(example)}): \`npx eda-kit local --serve --port 0\` in the user-activity ` +
          'example, installed from the packed kit, from the spawn (synth and emulators included) to ' +
          '`First event processed (welcome-email)` for one sign-up sent to the single endpoint as soon as it serves ' +
          '(the first run synthesizes the fresh install; the later ones reuse its assembly, the app unchanged); ' +
          `setup (pack, install, build) ${setupSeconds.toFixed(0)} s, not counted`,
      },
      {
        name: 'local.firstEvent.npmStartReference',
        value: round(start),
        unit: 's',
        note:
          `median of ${runs} run(s) (${list(reference.map((r) => r.reported))}): \`npm start -- --orders 1\` for the ` +
          "reference app, its report's firstEventSeconds (from its start, modules loaded, to the first record a " +
          'consumer processed), the app unchanged since an earlier start, so its assembly is reused; from the spawn ' +
          `to its \`First event processed\` line: ${list(reference.map((r) => r.fromSpawn))}`,
      },
      {
        name: 'local.firstEvent.npmStartSynthesizing',
        value: round(startSynthesizing),
        unit: 's',
        note:
          `median of ${runs} run(s) (${list(synthesizing.map((r) => r.reported))}): the same with ` +
          '`EDA_KIT_SYNTH=always`, the app synthesized on every start, as after a change to it; from the spawn: ' +
          list(synthesizing.map((r) => r.fromSpawn)),
      },
      ratioResult(
        'local.firstEvent.reusedVsSynthesizing',
        start,
        startSynthesizing,
        'the first event of `npm start` with the assembly reused over the same start synthesizing, in the same run, runs alternated',
      ),
      ratioResult(
        'local.firstEvent.edaKitLocalVsNpmStart',
        local,
        start,
        "the example's first event with `eda-kit local` over the reference app's with `npm start`, in the same run, runs alternated",
      ),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = runsFlag('tsx bench/example-local.ts', 'runs of each, alternated (the median is kept)', 3);
  // The SDK client here sends one message; its notice that it wants Node 22 is not news to a bench run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  reportResults(await measureExampleFirstEvent(runs));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
