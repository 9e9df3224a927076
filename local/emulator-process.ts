/**
 * Runs one emulator in a process of its own, so its CPU work does not share an event loop with the others or with
 * the code under test. Arguments: the service (`dynamodb`, `kinesis` or `sqs`) and, optionally, the folder to keep
 * state in. Prints its endpoint on one line, then serves until it is sent SIGTERM or its parent goes away.
 */
import { type EmulatedService, startEmulator } from './emulators';

const [service, dataDir] = process.argv.slice(2) as [EmulatedService, string | undefined];
startEmulator(service, { dataDir }).then((emulator) => {
  process.stdout.write(`${emulator.endpoint}\n`);
  const stop = () => emulator.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
});
