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
  process.stdout.write(`migrations applied to ${config.database.kind} database\n`);
  return 0;
}
