/** `triggers migrate`: apply pending migrations to the configured database and exit. */
import { openStore } from '../store/index.js';
import { configFromFlags, flags, settingName } from './commands.js';
import { storeFailure } from './failure.js';

export async function migrate(args: string[]): Promise<number> {
  const { values } = flags(args, { database: { type: 'string' }, 'data-dir': { type: 'string' } });
  const config = configFromFlags(values);
  try {
    const store = await openStore(config.database);
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
  } catch (error) {
    throw storeFailure(error, config.database, settingName(values, 'database'), 'migrate');
  }
  // Applied now or earlier: either way nothing is pending.
  process.stdout.write(`${config.database.kind} database is up to date: every migration is applied\n`);
  return 0;
}
