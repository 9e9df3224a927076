import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** The user-activity example: an app that knows the kit only through its package. */
export const EXAMPLE_DIR = path.resolve(__dirname, '..', '..', 'examples', 'user-activity');

/**
 * Copies the example into `work` (outside the repository: no node_modules above it) with its `cdk-eda-kit`
 * dependency pointing at `tarball`, as a user's app would name the published package. Returns the copy's folder.
 */
export function copyExampleWithTarball(work: string, tarball: string): string {
  const appDir = path.join(work, 'user-activity');
  cpSync(EXAMPLE_DIR, appDir, {
    recursive: true,
    // What an in-place build leaves: installed modules, a lock naming an older tarball, compiled output.
    filter: (source) =>
      !/[\\/](node_modules|cdk\.out|\.local|package-lock\.json)$/.test(source) && !/\.(js|d\.ts)$/.test(source),
  });
  const manifestFile = path.join(appDir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  manifest.dependencies['cdk-eda-kit'] = `file:${tarball}`;
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return appDir;
}
