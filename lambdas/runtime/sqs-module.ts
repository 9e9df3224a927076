import type * as SqsModule from '@aws-sdk/client-sqs';

let loading: Promise<typeof SqsModule> | undefined;

/**
 * The SQS client module, loaded on first use: only a dead letter needs it, most execution environments never send
 * one, and loading it is about a tenth of a consumer's cold start.
 *
 * Imported, and where the import does not find it, required: `import()` does not search `NODE_PATH`, which is where
 * Lambda's runtime provides the SDK to the CommonJS bundles the constructs build, and `require` does.
 */
export function loadSqsModule(): Promise<typeof SqsModule> {
  loading ??= import('@aws-sdk/client-sqs')
    .catch((error: unknown) => {
      if (typeof require !== 'function' || (error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
      return require('@aws-sdk/client-sqs') as typeof SqsModule;
    })
    .catch((error: unknown) => {
      loading = undefined; // the next dead letter tries again
      throw error;
    });
  return loading;
}
