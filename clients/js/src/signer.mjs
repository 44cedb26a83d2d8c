// A Signer for @polkadot/api that signs with qstack keys of any scheme.

import { fromHex, toHex } from './keys.mjs';

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** MultiAddress variant index (Substrate's `Raw`) of a key in a transaction. */
const ADDRESS_RAW = 2;
/** Version byte of a signed extrinsic (v4, signed bit set). */
const SIGNED_V4 = 0x84;

/**
 * Signs @polkadot/api transactions with qstack keys (`Keys.pair`,
 * `Keys.generate`, `Keys.fromKeyringPair`), by the payload every Substrate
 * signer signs.
 *
 * qstack stores an account's master key on chain at its first transaction,
 * which must therefore carry the key: until then the signer returns the
 * whole signed transaction (MultiAddress `Raw` with the key), so send with
 * `withSignedTransaction: true` (as `signAndSend` below does). Afterwards
 * the transaction names the account (`Id`) as any Substrate one does.
 */
export class QstackSigner {
  /** `api`: a connected ApiPromise; `keys`: the loaded key module. */
  constructor(api, keys) {
    this.api = api;
    this.keys = keys;
    this.byAccount = new Map();
    this.nextId = 1;
  }

  /** Adds `key`; returns the account's SS58 address, to pass to `signAndSend`. */
  add(key) {
    this.byAccount.set(key.accountId, key);
    return this.address(key);
  }

  /** The SS58 address of `key`'s account under the chain's prefix. */
  address(key) {
    return this.keys.encodeSs58(key.accountId, this.api.registry.chainSS58 ?? 42);
  }

  /** Whether the chain already holds `key` as its account's master key. */
  async registered(key) {
    const stored = await this.api.query.system.accountKey(key.accountId);
    return stored.isSome && toHex(stored.unwrap().toU8a()) === key.publicKey;
  }

  /** The Signer interface of @polkadot/api. */
  async signPayload(payload) {
    const accountId = toHex(this.api.registry.createType('AccountId', payload.address).toU8a());
    const key = this.byAccount.get(accountId);
    if (!key) throw new Error(`QstackSigner has no key for ${payload.address} (account ${accountId})`);
    const ext = this.api.registry.createType('ExtrinsicPayload', payload, { version: payload.version });
    let message = ext.toU8a({ method: true });
    if (message.length > 256) message = fromHex(this.keys.blake2_256(message));
    const signature = key.sign(message);
    const id = this.nextId++;
    if (await this.registered(key)) return { id, signature };
    const compact = (n) => this.api.registry.createType('Compact<u32>', n).toU8a();
    const pk = fromHex(key.publicKey);
    const address = concat(Uint8Array.of(ADDRESS_RAW), compact(pk.length), pk);
    const body = concat(
      Uint8Array.of(SIGNED_V4),
      address,
      fromHex(signature),
      // The signed extensions' extra, as the payload holds it (era,
      // compact nonce, compact tip).
      ext.era.toU8a(),
      ext.nonce.toU8a(),
      ext.tip.toU8a(),
      fromHex(payload.method),
    );
    return { id, signature, signedTransaction: toHex(concat(compact(body.length), body)) };
  }
}

/**
 * Signs `tx` with `key` and sends it, calling `onStatus` with each status
 * as `tx.signAndSend` does; resolves with the first result that is
 * finalized (or rejects on an invalid, dropped or failed transaction).
 */
export function signAndSend(signer, tx, key, onStatus = () => {}) {
  const address = signer.add(key);
  return new Promise((resolve, reject) => {
    let unsub = null;
    tx.signAndSend(address, { signer, withSignedTransaction: true }, (result) => {
      onStatus(result);
      const { status, dispatchError } = result;
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        if (unsub) unsub();
        reject(new Error(`transaction ${status.type}`));
      } else if (status.isFinalized) {
        if (unsub) unsub();
        if (dispatchError) {
          const why = dispatchError.isModule ? JSON.stringify(signer.api.registry.findMetaError(dispatchError.asModule)) : dispatchError.toString();
          reject(new Error(`the call failed: ${why}`));
        } else {
          resolve(result);
        }
      }
    })
      .then((u) => {
        unsub = u;
      })
      .catch(reject);
  });
}
