/**
 * A thin Store wrapper that keeps secrets encrypted at rest (core/secretBox.ts), so every
 * backend gets it unchanged: subscription signing secrets, the values of a subscription's custom
 * headers (they often carry credentials: `Authorization`, an API key) and receiver secrets are
 * sealed on the way in and opened on the way out; every other verb passes straight through.
 *
 * Migration path: plaintext written before the key was set reads as is. Any update of a
 * subscription that still holds a plaintext secret or header value rewrites them encrypted; a
 * receiver secret is encrypted the next time it is set.
 *
 * Without a key (null) nothing is sealed, but a ciphertext read back is refused loudly: a
 * header sent as `enc:v1:…`, or a signature made with it, would fail at the receiver unseen.
 */
import { decryptSecret, encryptSecret, isEncrypted } from '../core/secretBox.js';
import type { DeliveryOptions, NewSubscription, SigningSecret, Subscription, SubscriptionPatch } from '../core/types.js';
import type { Store } from './store.js';

type Overrides = Pick<
  Store,
  | 'createSubscription'
  | 'getSubscription'
  | 'listSubscriptions'
  | 'updateSubscription'
  | 'setReceiverSecret'
  | 'getReceiverSecret'
>;

export function withEncryptedSecrets(inner: Store, key: Buffer | null): Store {
  const sealValue = (value: string) => (key === null || isEncrypted(value) ? value : encryptSecret(key, value));
  const seal = (secrets: SigningSecret[]): SigningSecret[] => secrets.map((s) => ({ ...s, secret: sealValue(s.secret) }));
  const mapHeaders = <T extends DeliveryOptions | undefined>(delivery: T, map: (value: string) => string): T => {
    if (delivery === undefined || Object.keys(delivery.headers).length === 0) return delivery;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(delivery.headers)) headers[name] = map(value);
    return { ...delivery, headers };
  };
  const plaintextIn = (subscription: Subscription) =>
    subscription.secrets.some((s) => !isEncrypted(s.secret)) ||
    Object.values(subscription.delivery.headers).some((value) => !isEncrypted(value));
  const open = <T extends Subscription | null>(subscription: T): T =>
    subscription === null
      ? subscription
      : {
          ...subscription,
          secrets: subscription.secrets.map((s) => ({ ...s, secret: decryptSecret(key, s.secret) })),
          delivery: mapHeaders(subscription.delivery, (value) => decryptSecret(key, value)),
        };

  const overrides: Overrides = {
    async createSubscription(subscription: NewSubscription) {
      return open(
        await inner.createSubscription({
          ...subscription,
          secrets: seal(subscription.secrets),
          delivery: mapHeaders(subscription.delivery, sealValue),
        }),
      );
    },
    async getSubscription(id: string) {
      return open(await inner.getSubscription(id));
    },
    async listSubscriptions() {
      return (await inner.listSubscriptions()).map(open);
    },
    async updateSubscription(id: string, patch: SubscriptionPatch) {
      let { secrets, delivery } = patch;
      if (key !== null && (secrets === undefined || delivery === undefined)) {
        // Plaintext stored before the key was set is rewritten sealed by this update.
        const stored = await inner.getSubscription(id);
        if (stored && plaintextIn(stored)) {
          secrets ??= stored.secrets;
          delivery ??= stored.delivery;
        }
      }
      const sealed: SubscriptionPatch = { ...patch };
      if (secrets !== undefined) sealed.secrets = seal(secrets);
      if (delivery !== undefined) sealed.delivery = mapHeaders(delivery, sealValue);
      return open(await inner.updateSubscription(id, sealed));
    },
    setReceiverSecret(name: string, secret: string | null) {
      return inner.setReceiverSecret(name, secret === null ? secret : sealValue(secret));
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
