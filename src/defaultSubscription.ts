/**
 * The default subscription (id `default`) comes from configuration — the seed's single webhook
 * URL — and is re-applied at every start: its URL follows TRIGGERS_WEBHOOK_URL. Its signing
 * secret follows TRIGGERS_WEBHOOK_SECRET when that is set (the operator's value wins, the one it
 * replaces keeps signing for 24 hours); when it is not set, the secret generated on the first
 * start is only the initial one, and a rotation through the API or the console stays. Filters,
 * description and status changed through the API are kept. With no URL it is a pull-only inbox
 * (`GET /inbox`).
 */
import type { ResolvedConfig } from './config/secrets.js';
import { rotate } from './core/signing.js';
import type { Store } from './store/store.js';

export const DEFAULT_SUBSCRIPTION_ID = 'default';

export async function ensureDefaultSubscription(store: Store, config: ResolvedConfig, now = Date.now()): Promise<void> {
  const existing = await store.getSubscription(DEFAULT_SUBSCRIPTION_ID);
  if (!existing) {
    try {
      await store.createSubscription({
        id: DEFAULT_SUBSCRIPTION_ID,
        url: config.webhookUrl,
        event_types: ['*'],
        secrets: [{ secret: config.webhookSecret, expires_at: null }],
        status: 'active',
        description: 'Default subscription (TRIGGERS_WEBHOOK_URL)',
        disabled_reason: null,
        metadata: {},
      });
      return;
    } catch (error) {
      // Another process of a fleet created it first: fall through and reconcile.
      if (!(await store.getSubscription(DEFAULT_SUBSCRIPTION_ID))) throw error;
    }
  }
  const current = (await store.getSubscription(DEFAULT_SUBSCRIPTION_ID))!;
  const patch: Parameters<Store['updateSubscription']>[1] = {};
  if (current.url !== config.webhookUrl) patch.url = config.webhookUrl;
  const currentSecret = current.secrets.find((s) => s.expires_at === null)?.secret;
  const configured = config.sources.TRIGGERS_WEBHOOK_SECRET !== undefined;
  if (configured && currentSecret !== config.webhookSecret) patch.secrets = rotate(current.secrets, config.webhookSecret, now);
  if (Object.keys(patch).length > 0) await store.updateSubscription(DEFAULT_SUBSCRIPTION_ID, patch);
}
