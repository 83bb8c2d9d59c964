/** Structured JSON logs (pino). Lines about one event carry `event_id`. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'triggers' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing, for tests and embedded use. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
