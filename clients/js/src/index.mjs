// @qstack/api: sign and read qstack chains from JavaScript.
//
// @polkadot/api and polkadot-api read a qstack chain with no options (its
// metadata describes every type and signed extension the way FRAME does);
// what they lack is qstack's keys. This package brings them:
//
//   import { ApiPromise, WsProvider } from '@polkadot/api';
//   import { loadKeys, QstackSigner, signAndSend } from '@qstack/api';
//   const api = await ApiPromise.create({ provider: new WsProvider('ws://127.0.0.1:9944') });
//   const keys = await loadKeys();
//   const alice = keys.pair('falcon512', '//Alice');
//   const signer = new QstackSigner(api, keys);
//   await signAndSend(signer, api.tx.balances.transferKeepAlive(bob, 10n ** 12n), alice);

export { loadKeys, Keys, Key, SCHEMES, toHex, fromHex } from './keys.mjs';
export { QstackSigner, signAndSend } from './signer.mjs';
