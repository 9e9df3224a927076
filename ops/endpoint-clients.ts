/**
 * SDK clients for services at endpoints of one's own: the emulators of the local cloud (`npm start -- --serve`
 * writes them to `.local/endpoints.json`, where `eda-kit --local` reads them). In ops/ because `eda-kit` ships in
 * the package and local/ does not; the local cloud imports them from here.
 *
 * @module
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Where each emulated service listens. */
export interface EmulatorEndpoints {
  /** DynamoDB (dynalite). */
  readonly dynamodb: string;
  /** SQS (local-aws-sqs). */
  readonly sqs: string;
  /** Kinesis (kinesalite). */
  readonly kinesis: string;
  /** S3 (s3rver), when the app has a bucket. */
  readonly s3?: string;
}

/** Fake credentials: the emulators accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The region of every local resource. */
export const LOCAL_REGION = 'us-east-1';

/** SDK clients for the emulators (Kinesis needs the HTTP/1.1 handler: kinesalite does not speak HTTP/2). */
export function emulatorClients(endpoints: EmulatorEndpoints): {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  kinesis: KinesisClient;
  s3: S3Client;
} {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  let s3: S3Client | undefined;
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
    kinesis: new KinesisClient({ ...common, endpoint: endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
    // Made on first use: only apps with a bucket need it, and the S3 client takes a while to load.
    get s3() {
      if (!endpoints.s3) throw new Error('no S3 endpoint: the local cloud runs S3 only for an app with a bucket');
      const { S3Client: Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      s3 ??= new Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true });
      return s3;
    },
  };
}
