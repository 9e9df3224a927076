import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';

/** How a function's entry is bundled. */
export interface BundlingOptions {
  /**
   * Minify the bundle.
   *
   * @default true
   */
  readonly minify?: boolean;
  /**
   * Write a source map beside the bundle (set `NODE_OPTIONS=--enable-source-maps` to use it in stack traces).
   *
   * @default false
   */
  readonly sourceMap?: boolean;
  /**
   * Modules left out of the bundle, because the Lambda runtime provides them: the AWS SDK v3 and the Smithy
   * packages it is built on (the same set aws-cdk-lib leaves out under its
   * `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages` flag).
   *
   * @default ['@aws-sdk/*', '@smithy/*']
   */
  readonly externalModules?: string[];
  /**
   * The `package.json` fields a bundled package's entry is read from, in order, as esbuild's `mainFields`. To bundle
   * the AWS SDK (`externalModules: []`), `['module', 'main']` takes its ES module builds, which esbuild tree-shakes
   * to the commands a function uses; the default takes its CommonJS builds, every command of each client.
   *
   * @default - esbuild's default for the node platform (`main`, then `module`)
   */
  readonly mainFields?: string[];
  /**
   * Identifiers replaced at build time, as esbuild's `define`.
   *
   * @default - none
   */
  readonly define?: Record<string, string>;
}

/**
 * The code of a Node.js function, bundled by the local esbuild through its API, in-process: no Docker, and no
 * `npx esbuild` process per function (which costs about half a second each at synth).
 */
export function esbuildCode(entry: string, runtime: lambda.Runtime, options: BundlingOptions = {}): lambda.Code {
  const nodeVersion = /nodejs(\d+)/.exec(runtime.name)?.[1] ?? '20';
  return lambda.Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling fails, which it cannot do silently: buildSync throws on a build error.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs20.x'),
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync({
            entryPoints: [entry],
            outfile: path.join(outputDir, 'index.js'),
            bundle: true,
            platform: 'node',
            format: 'cjs',
            target: `node${nodeVersion}`,
            minify: options.minify ?? true,
            sourcemap: options.sourceMap ?? false,
            external: options.externalModules ?? ['@aws-sdk/*', '@smithy/*'],
            mainFields: options.mainFields,
            define: options.define,
            logLevel: 'warning',
            legalComments: 'none',
          });
          return true;
        },
      },
    },
  });
}
