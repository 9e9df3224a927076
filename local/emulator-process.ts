/**
 * Runs the emulators in a process of their own, so their CPU work does not share an event loop with the code
 * under test. Prints one JSON line with the endpoints, then serves until it is sent SIGTERM or its parent exits.
 */
import { startEmulators } from './emulators';

startEmulators().then((emulators) => {
  process.stdout.write(`${JSON.stringify(emulators.endpoints)}\n`);
  const stop = () => emulators.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
});
