/**
 * The local cloud, for a CDK app's own tests: start it from an app's folder or a cloud assembly, find a queue,
 * stream, table or function by construct path or logical ID, send and put events, wait until the pipeline is at
 * rest, read dead-letter queues, scan tables, read a function's logs and metrics, and stop.
 *
 * Needs the emulators beside the kit: `npm install --save-dev dynalite kinesalite local-aws-sqs`.
 *
 * @example
 * const cloud = await LocalCloud.start({ appDir: '.' });
 * await cloud.queue('UserActivity/SignUps/Queue').send({ type: 'UserSignedUp', userId: 'u-1' });
 * await cloud.waitForRest();
 * const emails = await cloud.table('UserActivity/WelcomeEmails').scan();
 * await cloud.stop();
 *
 * @module
 */
export type { EmulatorEndpoints } from '../ops/endpoint-clients';
export { DEFAULT_EDGE_PORT, type EdgeEndpoint, EdgePortInUseError } from './edge-endpoint';
export { EMULATOR_PACKAGES, EmulatorsNotInstalledError } from './emulators';
export type { FunctionOutput, LocalFunctionConfig } from './function-runtime';
export { LocalCloudInputError } from './input-error';
export {
  LocalCloud,
  LocalCloudNotAtRestError,
  type LocalCloudOptions,
  type LocalCloudPlugin,
  type PollerClients,
  type WaitForRestOptions,
} from './local-cloud';
export {
  type BucketObject,
  type FunctionLogLine,
  LocalBucket,
  LocalFunction,
  LocalQueue,
  type LocalResourceIdentity,
  LocalStream,
  LocalTable,
  type PutRecordResult,
  type QueueMessage,
  type SendOptions,
} from './resources';
