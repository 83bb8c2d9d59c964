/**
 * A thin Store wrapper that keeps signing secrets encrypted at rest (core/secretBox.ts), so
 * every backend gets it unchanged: subscription secrets and receiver secrets are sealed on the
 * way in and opened on the way out; every other verb passes straight through.
 *
 * Migration path: plaintext written before the key was set reads as is. Any update of a
 * subscription that still holds a plaintext secret rewrites its secrets encrypted; a receiver
 * secret is encrypted the next time it is set.
 */
import { decryptSecret, encryptSecret, isEncrypted } from '../core/secretBox.js';
import type { NewSubscription, SigningSecret, Subscription, SubscriptionPatch } from '../core/types.js';
import type { Store } from './store.js';

type Overrides = Pick<
  Store,
  'createSubscription' | 'getSubscription' | 'listSubscriptions' | 'updateSubscription' | 'setReceiverSecret' | 'getReceiverSecret'
>;

export function withEncryptedSecrets(inner: Store, key: Buffer): Store {
  const seal = (secrets: SigningSecret[]): SigningSecret[] =>
    secrets.map((s) => ({ ...s, secret: isEncrypted(s.secret) ? s.secret : encryptSecret(key, s.secret) }));
  const open = <T extends Subscription | null>(subscription: T): T =>
    subscription === null
      ? subscription
      : { ...subscription, secrets: subscription.secrets.map((s) => ({ ...s, secret: decryptSecret(key, s.secret) })) };

  const overrides: Overrides = {
    async createSubscription(subscription: NewSubscription) {
      return open(await inner.createSubscription({ ...subscription, secrets: seal(subscription.secrets) }));
    },
    async getSubscription(id: string) {
      return open(await inner.getSubscription(id));
    },
    async listSubscriptions() {
      return (await inner.listSubscriptions()).map(open);
    },
    async updateSubscription(id: string, patch: SubscriptionPatch) {
      let secrets = patch.secrets;
      if (secrets === undefined) {
        const stored = await inner.getSubscription(id);
        if (stored?.secrets.some((s) => !isEncrypted(s.secret))) secrets = stored.secrets;
      }
      const sealed: SubscriptionPatch = secrets === undefined ? patch : { ...patch, secrets: seal(secrets) };
      return open(await inner.updateSubscription(id, sealed));
    },
    setReceiverSecret(name: string, secret: string | null) {
      return inner.setReceiverSecret(name, secret === null || isEncrypted(secret) ? secret : encryptSecret(key, secret));
    },
    async getReceiverSecret(name: string) {
      const secret = await inner.getReceiverSecret(name);
      return secret === null ? null : decryptSecret(key, secret);
    },
  };

  return new Proxy(inner, {
    get(target, property, receiver) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Overrides];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
