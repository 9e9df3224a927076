import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  createQueue,
  createTable,
  type Emulators,
  emulatorClients,
  startEmulators,
  useEmulatorEnvironment,
} from '../local/emulators';

/** The reference functions' tables and queues in the test emulators, by the variable that names each. */
export const REFERENCE_TABLES = {
  IDEMPOTENCY_TABLE_NAME: ['idempotency', 'id'],
  ORDERS_TABLE_NAME: ['orders', 'orderId'],
  SENT_EMAILS_TABLE_NAME: ['sent-emails', 'messageId'],
  INVENTORY_TABLE_NAME: ['inventory', 'sku', 'slot'],
  AUDIT_LOG_TABLE_NAME: ['audit-log', 'eventId'],
  ANALYTICS_TABLE_NAME: ['analytics', 'minute', 'slot'],
} as const;

let emulators: Emulators | undefined;
let runTemporaryDir: string | undefined;

/**
 * Starts the emulators once for the whole run, on 127.0.0.1, and points every test worker at them through the
 * environment (workers start after this and inherit it). The reference functions read their table names and
 * dead-letter queue from the environment at import, as on Lambda.
 */
export async function setup(): Promise<void> {
  // Everything the run writes to the temporary folder (the assemblies of CDK apps made without an outdir, the
  // example app's install, the tests' own folders) goes to one folder of its own, removed at teardown: the workers
  // and what they spawn inherit TMPDIR, which os.tmpdir() reads on every call.
  runTemporaryDir = mkdtempSync(path.join(tmpdir(), 'eda-kit-test-'));
  process.env.TMPDIR = runTemporaryDir;
  emulators = await startEmulators();
  useEmulatorEnvironment(emulators.endpoints);
  const clients = emulatorClients(emulators.endpoints);
  for (const [variable, [tableName, partitionKey, sortKey]] of Object.entries(REFERENCE_TABLES) as [
    string,
    readonly [string, string, string?],
  ][]) {
    await createTable(clients.dynamodb, tableName, partitionKey, sortKey);
    process.env[variable] = tableName;
  }
  process.env.DEAD_LETTER_QUEUE_URL = await createQueue(clients.sqs, 'reference-dead-letters');
  Object.assign(process.env, {
    POWERTOOLS_SERVICE_NAME: 'test-consumer',
    POWERTOOLS_METRICS_NAMESPACE: 'EdaKitTest',
    // Logs and EMF lines of thousands of records would drown the test report; tests that check them capture them.
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Tests run on the machine's Node.js 20; the functions target the Lambda runtime's.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}

export async function teardown(): Promise<void> {
  await emulators?.stop();
  if (runTemporaryDir) rmSync(runTemporaryDir, { recursive: true, force: true });
}
