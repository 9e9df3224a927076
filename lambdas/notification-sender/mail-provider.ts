import { putIfAbsent } from 'cdk-eda-kit/runtime';

/** An email to send. `messageId` identifies it: sending the same `messageId` twice must send it once. */
export interface MailMessage {
  readonly messageId: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Where emails go. Swap the recording provider for a real one (SES, a mail API) in production. */
export interface MailProvider {
  /** Sends `message` unless it was sent before; returns whether this call sent it. */
  send(message: MailMessage): Promise<boolean>;
}

/** A sent email as the recording provider keeps it, keyed by `messageId`. */
export interface SentEmailItem extends MailMessage {
  /** When it was recorded (ISO 8601). */
  readonly recordedAt: string;
}

/** The item the recording provider writes for `message`, recorded at `recordedAt` (ISO 8601). */
export function sentEmailItem(message: MailMessage, recordedAt: string): SentEmailItem {
  return { ...message, recordedAt };
}

/**
 * Records what it would send in a DynamoDB table instead of sending it, so the app runs without a mail account
 * and every "sent" email can be inspected. The record is created only if absent: one email per `messageId`.
 */
export class RecordingMailProvider implements MailProvider {
  constructor(private readonly tableName: string) {}

  public send(message: MailMessage): Promise<boolean> {
    return putIfAbsent(this.tableName, 'messageId', { ...sentEmailItem(message, new Date().toISOString()) });
  }
}
