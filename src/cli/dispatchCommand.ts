/** `triggers dispatch [--once] [--api URL]`: the seed's dispatcher as its own process. */
import { withSavedApiKey } from '../config/secrets.js';
import { configFromFlags, flags, text } from './commands.js';
import { runDispatchCommand } from './dispatch.js';

export async function dispatch(args: string[]): Promise<number> {
  const { values } = flags(args, {
    once: { type: 'boolean', default: false },
    api: { type: 'string' },
  });
  const config = withSavedApiKey(configFromFlags(values));
  return runDispatchCommand(config, { once: values.once === true, apiUrl: text(values.api) });
}
