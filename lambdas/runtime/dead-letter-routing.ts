import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeadLetterLedger } from './dead-letter-ledger';
import type { DeadLetterWriter } from './dead-letter-writer';
import type { RecordBody } from './records';

/** What became of a record sent to the dead-letter queue: sent now, or found sent by an earlier delivery. */
export type DeadLetterOutcome = 'sent' | 'sent-before';

/**
 * Sends a record that can never succeed to the dead-letter queue once, however often it is delivered: looks it up
 * in the ledger, sends it with its reason, then marks it.
 */
export class DeadLetterRouter {
  private writerInstance: DeadLetterWriter | undefined;

  /**
   * @param createWriter - makes the writer (and its SQS client) on the first dead letter, not at cold start.
   * @param ledger - where dead-lettered records are marked.
   */
  constructor(
    private readonly createWriter: () => DeadLetterWriter,
    private readonly ledger: DeadLetterLedger,
  ) {}

  private get writer(): DeadLetterWriter {
    this.writerInstance ??= this.createWriter();
    return this.writerInstance;
  }

  /**
   * Dead-letters one record. Rejects when the lookup or the send fails: the record is then reported failed and the
   * platform retries it, rather than lose it or send it blind.
   */
  public async route(body: RecordBody, reason: Error, logger: Logger): Promise<DeadLetterOutcome> {
    const because = `${reason.name}: ${reason.message}`;
    try {
      // A failed lookup fails the record (the platform retries it): sending blind could leave a second dead letter.
      if (await this.ledger.has(body.source)) {
        // Delivered again after its dead letter was sent (its batch was retried): one DLQ entry is enough.
        logger.info('Record was dead-lettered before; not sent again', { reason: because });
        return 'sent-before';
      }
      await this.writer.send(body.bytes, body.source, reason);
    } catch (sendError) {
      logger.error('Record could not be dead-lettered; the platform will retry it', {
        reason: reason.message,
        error: sendError as Error,
      });
      throw sendError;
    }
    logger.warn('Record sent to the dead-letter queue', { reason: because });
    // Not marked: a later delivery sends one more dead letter. Better than failing a record that was sent.
    await this.ledger
      .mark(body.source)
      .catch((error: Error) =>
        logger.warn('Dead-lettered record could not be marked; a redelivery would dead-letter it again', { error }),
      );
    return 'sent';
  }
}
