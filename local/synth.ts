import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Synthesizes the app into `outdir` the way `cdk synth` does, without the CLI's own start-up: runs the `app`
 * command of cdk.json with the context of cdk.context.json and cdk.json, plus what the CLI adds (construct paths
 * and asset metadata, which the local cloud reads). `appCommand` replaces cdk.json's `app`. Rejects with the app's
 * output when it fails.
 */
export async function synthesize(projectDir: string, outdir: string, appCommand?: string): Promise<void> {
  const cdkJson = JSON.parse(readFileSync(path.join(projectDir, 'cdk.json'), 'utf8')) as {
    app: string;
    context?: Record<string, unknown>;
  };
  const command = appCommand ?? cdkJson.app;
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
}
