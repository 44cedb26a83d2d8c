// Signs from JavaScript with every qstack key scheme, through @polkadot/api
// (no options) and @qstack/api (clients/js): a polkadot.js keyring made
// from Substrate's dev phrase funds a new key of each scheme (generated in
// JS) with Balances.transfer_keep_alive; each new key then signs two
// transfers back (the first carries its key, the second names its
// account), all followed to finality; balances are read with
// api.query.system.account and api.derive.balances.all after each.
//
// Usage: node sign.mjs <ws-url> [--rust <file>] [--out <file>]
//   --rust: JSON [{scheme, publicKey, message, signature}] signed by the
//           node's Rust code, each checked here;
//   --out:  where to write the same made here, for the Rust side to check.
// Needs QSTACK_KEYS_WASM (the key module; the Rust test writes it).

import { writeFileSync, readFileSync } from 'node:fs';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring, DEV_PHRASE } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { loadKeys, QstackSigner, signAndSend, SCHEMES, toHex } from '../../clients/js/src/index.mjs';
import { check, fail, ok, step } from './report.mjs';

const TIMEOUT_SECS = 150;
const QS = 10n ** 12n;
function parseArgs(argv) {
  const [url, ...rest] = argv;
  if (!url || !/^wss?:\/\//.test(url)) fail('usage: node sign.mjs <ws-url> [--rust <file>] [--out <file>]');
  const opts = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!['--rust', '--out'].includes(rest[i]) || rest[i + 1] === undefined) fail(`unexpected argument ${rest[i]}`);
    opts[rest[i].slice(2)] = rest[i + 1];
  }
  return { url, ...opts };
}

async function balances(api, key) {
  const [info, all] = await Promise.all([api.query.system.account(key.accountId), api.derive.balances.all(key.accountId)]);
  check(all.freeBalance.eq(info.data.free), `derive free ${all.freeBalance} != query free ${info.data.free}`);
  return { free: info.data.free.toBigInt(), nonce: info.nonce.toNumber(), transferable: all.transferable.toBigInt() };
}

async function main() {
  const { url, rust, out } = parseArgs(process.argv.slice(2));
  setTimeout(() => fail(`timed out after ${TIMEOUT_SECS} s`), TIMEOUT_SECS * 1000);

  step('loading the key module');
  const keys = await loadKeys();
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  const aliceKeyring = keys.fromKeyringPair(keyring.addFromUri(`${DEV_PHRASE}//Alice`));
  const aliceWasm = keys.pair('sr25519', '//Alice');
  check(aliceKeyring.publicKey === aliceWasm.publicKey, `keyring //Alice ${aliceKeyring.publicKey} != qstack //Alice ${aliceWasm.publicKey}`);
  check(aliceKeyring.publicKey === '0x00d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d', `//Alice is not Substrate's: ${aliceKeyring.publicKey}`);
  ok(`the polkadot.js keyring's //Alice is qstack's sr25519 //Alice: account ${aliceKeyring.address}`);

  step('signatures across the Rust/JS boundary');
  if (rust) {
    const theirs = JSON.parse(readFileSync(rust, 'utf8'));
    for (const s of theirs) {
      check(keys.verify(s.publicKey, s.message, s.signature), `${s.scheme}: a Rust signature does not verify in JS`);
      const flipped = s.message.slice(0, -1) + (s.message.endsWith('0') ? '1' : '0');
      check(!keys.verify(s.publicKey, flipped, s.signature), `${s.scheme}: a Rust signature verifies over another message`);
    }
    ok(`${theirs.length} signatures made in Rust verify in JS`);
  }
  const made = SCHEMES.map((scheme) => {
    const key = keys.pair(scheme, '//Bob');
    const message = toHex(new TextEncoder().encode(`signed in JS with ${scheme}`));
    return { scheme, publicKey: key.publicKey, accountId: key.accountId, message, signature: key.sign(message) };
  });
  if (out) writeFileSync(out, JSON.stringify(made));

  step(`connecting to ${url}`);
  const api = await ApiPromise.create({ provider: new WsProvider(url, 1000), throwOnConnect: true });
  const prefix = api.registry.chainSS58;
  check(prefix === 59, `chain ss58Format ${prefix}`);
  const signer = new QstackSigner(api, keys);
  ok(`connected with no options; ss58Format ${prefix}`);

  for (const scheme of SCHEMES) {
    step(`${scheme}: a new key`);
    const key = keys.generate(scheme);
    check(key.phrase.split(' ').length === 12, `phrase ${key.phrase}`);
    const again = keys.pair(scheme, key.phrase);
    check(again.publicKey === key.publicKey, `${scheme}: the phrase gives another key`);
    again.forget();
    check(keys.decodeAddress(key.address, prefix) === key.accountId, `${scheme}: q-address round trip`);
    check(keys.decodeAddress(signer.address(key), prefix) === key.accountId, `${scheme}: SS58 round trip`);

    step(`${scheme}: funded by the keyring's //Alice`);
    const fund = await signAndSend(signer, api.tx.balances.transferKeepAlive(signer.address(key), 5n * QS), aliceKeyring);
    const funded = await balances(api, key);
    check(funded.free === 5n * QS, `${scheme}: free ${funded.free} after funding`);
    ok(`${scheme}: keyring //Alice sent 5 QS in finalized block ${fund.status.asFinalized.toHex()}`);

    step(`${scheme}: the new key's first transaction (carries its key)`);
    check(!(await signer.registered(key)), `${scheme}: key already registered`);
    const first = await signAndSend(signer, api.tx.balances.transferAllowDeath(signer.address(aliceKeyring), QS), key);
    check(await signer.registered(key), `${scheme}: key not registered by its first transaction`);
    const afterFirst = await balances(api, key);
    check(afterFirst.nonce === 1, `${scheme}: nonce ${afterFirst.nonce}`);
    check(afterFirst.free < 4n * QS && afterFirst.free > 3n * QS, `${scheme}: free ${afterFirst.free} after sending 1 QS and a fee`);
    const fee = 4n * QS - afterFirst.free;
    ok(`${scheme}: first transfer finalized in ${first.status.asFinalized.toHex()} (fee ${fee})`);

    step(`${scheme}: the second transaction (names the account)`);
    await signAndSend(signer, api.tx.balances.transferKeepAlive(signer.address(aliceKeyring), QS / 2n), key);
    const afterSecond = await balances(api, key);
    check(afterSecond.nonce === 2, `${scheme}: nonce ${afterSecond.nonce}`);
    check(afterSecond.free < afterFirst.free - QS / 2n, `${scheme}: free ${afterSecond.free} after the second transfer`);
    check(afterSecond.transferable === afterSecond.free, `${scheme}: transferable ${afterSecond.transferable} != free ${afterSecond.free} (owns nothing)`);
    ok(`${scheme}: second transfer finalized; System.Account and derive agree: free ${afterSecond.free}, nonce ${afterSecond.nonce}`);
    key.forget();
  }

  step('disconnecting');
  await api.disconnect();
  ok('all checks passed');
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
