/** `triggers dispatch [--once] [--api URL]`: the seed's dispatcher as its own process. */
import { withSavedApiKey } from '../config/secrets.js';
import { configFromFlags, flags, text } from './commands.js';
import { runDispatchCommand } from './dispatch.js';
import { tuneHeap } from './heap.js';

export async function dispatch(args: string[]): Promise<number> {
  const { values } = flags(args, {
    once: { type: 'boolean', default: false },
    api: { type: 'string' },
  });
  const config = withSavedApiKey(configFromFlags(values));
  if (values.once !== true) tuneHeap();
  return runDispatchCommand(config, { once: values.once === true, apiUrl: text(values.api) });
}
