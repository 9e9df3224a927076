import { createServer } from 'node:net';

/** The dashboard's port unless told otherwise: beside the single endpoint's 4566. */
export const DEFAULT_DASHBOARD_PORT = 4567;

/** Thrown when the dashboard's port is taken: the user's input, like a taken single-endpoint port. */
export class DashboardPortInUseError extends Error {
  constructor(port: number) {
    super(`port ${port} is in use by another process: stop it, or choose another port with --dashboard-port`);
    this.name = 'DashboardPortInUseError';
  }
}

/** Fails with {@link DashboardPortInUseError} when `port` on 127.0.0.1 is taken, so a command refuses before it starts. */
export async function assertDashboardPortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new DashboardPortInUseError(port) : error),
    );
    probe.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
