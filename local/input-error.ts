/** Thrown for input the local cloud cannot start from: the message is one line that names the thing. */
export class LocalCloudInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalCloudInputError';
  }
}
