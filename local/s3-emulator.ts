import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalCloudInputError } from './input-error';

/** The npm package of the S3 emulator, an optional peer of the kit like the other emulators. */
export const S3_EMULATOR_PACKAGE = 's3rver';

/**
 * Starts s3rver on 127.0.0.1 in this process and returns its endpoint. Only failure destinations write to it (a
 * failed batch now and then), so it needs no process of its own. Its objects live on disk: in `dataDir/s3` when
 * given (kept between runs), else in a temporary folder removed on stop.
 *
 * s3rver checks signatures against one built-in key pair; the local cloud's clients, the AWS CLI and a user's
 * scripts sign with any credentials, as the other emulators allow. So every access key is taken as s3rver's own
 * account, and signatures are not checked (the single endpoint rewrites the signed `Host` header anyway).
 */
export async function startS3Emulator(dataDir?: string): Promise<{ endpoint: string; stop(): Promise<void> }> {
  let S3rver: typeof import('s3rver');
  let AWSAccount: { registry: Map<string, unknown>; DUMMY_ACCOUNT: unknown };
  try {
    // Required here, not at the top: an app without buckets does not need the package installed.
    S3rver = require('s3rver') as typeof import('s3rver');
    AWSAccount = require('s3rver/lib/models/account');
  } catch {
    throw new LocalCloudInputError(
      `the app has an S3 bucket, and the local cloud needs the S3 emulator package for it: npm install --save-dev ${S3_EMULATOR_PACKAGE}`,
    );
  }
  const registry = AWSAccount.registry;
  const ownGet = Map.prototype.get;
  registry.get = (key: string) => ownGet.call(registry, key) ?? AWSAccount.DUMMY_ACCOUNT;

  const directory = dataDir ? path.join(dataDir, 's3') : mkdtempSync(path.join(tmpdir(), 'eda-kit-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
  });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.close();
      if (!dataDir) rmSync(directory, { recursive: true, force: true });
    },
  };
}
