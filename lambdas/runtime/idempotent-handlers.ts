import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { eventTypeKeyPrefix } from '../../contract';
import type { EventHandler, RecordContext } from './event-handler';
import type { EventSchema, ParsedEvent } from './parse';

/** How long a completed key is remembered unless its handler says otherwise: one day. */
const DEFAULT_EXPIRES_AFTER_SECONDS = 86_400;

/** Where the idempotency records of a consumer's handlers go. */
export interface IdempotencyStore {
  /** The idempotency table. */
  readonly tableName: string;
  /** The start of every key the consumer writes: the string IAM allows it in `dynamodb:LeadingKeys`. */
  readonly keyPrefix: string;
  /** Whether completed records are kept in memory for later invocations of this execution environment. */
  readonly useLocalCache: boolean;
  /** The client for every handler's persistence layer. */
  readonly dynamoDBClient: DynamoDBClient;
}

interface IdempotentHandler {
  readonly config: IdempotencyConfig;
  /** Runs `effect` unless `key` completed before (the second argument is never hashed: see `makeIdempotent`). */
  readonly applyOnce: (key: string, effect: () => Promise<void>) => Promise<unknown>;
}

/**
 * A consumer's event handlers, each made idempotent with Powertools on the key the parser read: one persistence
 * layer and one key prefix (`<consumer prefix><event type>`) per event type, so two types never share a record.
 */
export class IdempotentHandlers {
  /** Each event type's schema and key field, for the parser. */
  public readonly schemas: Readonly<Record<string, EventSchema>>;
  private readonly handlers = new Map<string, EventHandler>();
  private readonly idempotent = new Map<string, IdempotentHandler>();

  constructor(events: Readonly<Record<string, EventHandler>>, store: IdempotencyStore) {
    const schemas: Record<string, EventSchema> = {};
    for (const [type, handler] of Object.entries(events)) {
      this.handlers.set(type, handler);
      this.idempotent.set(type, makeIdempotentHandler(eventTypeKeyPrefix(store.keyPrefix, type), handler, store));
      schemas[type] = handler;
    }
    if (this.handlers.size === 0) throw new Error('A consumer needs at least one event handler in `events`');
    this.schemas = schemas;
  }

  /** Tells every handler the invocation's remaining time: Powertools sets each in-progress record's expiry by it. */
  public registerLambdaContext(context: Context): void {
    for (const { config } of this.idempotent.values()) config.registerLambdaContext(context);
  }

  /**
   * Applies a parsed event unless its key completed before. Resolves to whether its handler ran now; rejects with
   * Powertools' `IdempotencyAlreadyInProgressError` while another invocation holds the key, and with what the
   * handler (or `turn`) threw (its record deleted, so a retry runs it again).
   *
   * @param turn - awaited after the key is taken and before the handler runs: the handler waits there for the
   *   records that must apply before it; when it rejects, the handler does not run.
   */
  public async apply(parsed: ParsedEvent, context: RecordContext, turn?: () => Promise<void>): Promise<boolean> {
    const handler = this.handlers.get(parsed.type) as EventHandler;
    const { applyOnce } = this.idempotent.get(parsed.type) as IdempotentHandler;
    let ranNow = false;
    await applyOnce(parsed.key, async () => {
      await turn?.();
      ranNow = true;
      await handler.handle(parsed.event, context);
    });
    return ranNow;
  }
}

function makeIdempotentHandler(keyPrefix: string, handler: EventHandler, store: IdempotencyStore): IdempotentHandler {
  // One persistence layer per idempotent function: sharing one between functions with different configs
  // silently turns idempotency off.
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: store.tableName,
    awsSdkV3Client: store.dynamoDBClient,
  });
  // No `eventKeyJmesPath`: Powertools would read the key as a JMESPath expression (`order-id` does not parse) and
  // take a falsy value (`0`) for a missing key. It hashes the key the parser read instead: a non-empty string, which
  // it hashes as `JSON.stringify(key)`, as it hashed a string field before.
  const config = new IdempotencyConfig({
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: handler.expiresAfterSeconds ?? DEFAULT_EXPIRES_AFTER_SECONDS,
    useLocalCache: store.useLocalCache,
  });
  const applyOnce = makeIdempotent(
    // The effect is a function, not the event: Powertools looks at the second argument for a Lambda context (an
    // object with `getRemainingTimeInMillis` or `step`), and an event could hold such a field.
    async (_key: string, effect: () => Promise<void>) => {
      await effect();
      return true;
    },
    { persistenceStore, config, keyPrefix, dataIndexArgument: 0 },
  );
  return { config, applyOnce };
}
