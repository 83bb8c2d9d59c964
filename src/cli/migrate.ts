/** `triggers migrate`: apply pending migrations to the configured database and exit. */
import { openStore } from '../store/index.js';
import { configFromFlags, flags } from './commands.js';

export async function migrate(args: string[]): Promise<number> {
  const { values } = flags(args, { database: { type: 'string' }, 'data-dir': { type: 'string' } });
  const config = configFromFlags(values);
  const store = await openStore(config.database);
  try {
    await store.migrate();
    process.stdout.write(`migrations applied to ${config.database.kind} database\n`);
  } finally {
    await store.close();
  }
  return 0;
}
