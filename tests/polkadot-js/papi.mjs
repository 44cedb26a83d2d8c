// Checks that polkadot-api (PAPI), the JSON-RPC-spec client from npm, works
// against a qstack chain over the new JSON-RPC spec (chainHead_v1,
// chainSpec_v1, transaction_v1): it connects, reads the chain spec, a
// finalized block's header and body and a storage entry, then signs a
// native transfer from //Alice to //Bob with a PolkadotSigner, submits it and
// follows it to finality, and reads Bob's balance again.
//
// Usage: node papi.mjs <ws-url> <bob account id 0x…>
// Prints one line per check; exits 1 with the reason at the first failure.
//
// The signer is the part a qstack wallet supplies: PAPI hands it the call and
// the signed extensions' bytes (all of them Substrate's), it signs
// Substrate's payload with an sr25519 keyring key (a master-key signature
// covers exactly that payload on qstack) and lays out the extrinsic with the
// key as `MultiAddress::Raw` (qstack's account id is a hash of the key).

import { createClient } from 'polkadot-api';
import { getWsProvider } from 'polkadot-api/ws';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, blake2AsU8a, encodeAddress } from '@polkadot/util-crypto';
import { u8aConcat, u8aToHex, hexToU8a, compactToU8a } from '@polkadot/util';
// Node.js 20 has no global WebSocket (22 has).
import { WebSocket } from 'ws';
import { check, fail, ok, step } from './report.mjs';

const TIMEOUT_SECS = 80;
/** SCALE of a qstack sr25519 public key (scheme tag 0, then the key). */
function encodedKey(pair) {
  return u8aConcat(new Uint8Array([0]), pair.publicKey);
}

/** A qstack account id: blake2-256 of the SCALE-encoded master key. */
function accountId(pair) {
  return blake2AsU8a(encodedKey(pair), 256);
}

/**
 * A PAPI signer for a qstack account signed by its sr25519 master key.
 * `publicKey` is what PAPI uses as the account (nonce lookup), so it is the
 * account id; the key itself travels in the address.
 */
function qstackSigner(pair) {
  return {
    publicKey: accountId(pair),
    async signTx(callData, signedExtensions) {
      const exts = Object.values(signedExtensions);
      const extra = u8aConcat(...exts.map((e) => e.value));
      const additional = u8aConcat(...exts.map((e) => e.additionalSigned));
      let payload = u8aConcat(callData, extra, additional);
      if (payload.length > 256) payload = blake2AsU8a(payload, 256);
      const signature = pair.sign(payload);
      const key = encodedKey(pair);
      const body = u8aConcat(
        new Uint8Array([0x84]), // signed, extrinsic version 4
        new Uint8Array([2]), // MultiAddress::Raw: the SCALE-encoded key
        compactToU8a(key.length),
        key,
        new Uint8Array([0]), // ExtrinsicSignature::Sr25519
        signature,
        extra,
        callData,
      );
      return u8aConcat(compactToU8a(body.length), body);
    },
    async signBytes() {
      throw new Error('not used');
    },
  };
}

async function main() {
  const [url, bobHex] = process.argv.slice(2);
  if (!url || !/^wss?:\/\//.test(url) || !bobHex) fail('usage: node papi.mjs <ws-url> <bob account id 0x…>');
  setTimeout(() => fail(`timed out after ${TIMEOUT_SECS} s`), TIMEOUT_SECS * 1000);
  await cryptoWaitReady();

  step(`connecting to ${url}`);
  const client = createClient(getWsProvider(url, { websocketClass: WebSocket }));
  const spec = await client.getChainSpecData();
  check(typeof spec.name === 'string' && spec.name.length > 0, `chain name ${spec.name}`);
  check(/^0x[0-9a-f]{64}$/.test(spec.genesisHash), `genesis hash ${spec.genesisHash}`);
  ok(`chainSpec_v1: ${spec.name}, genesis ${spec.genesisHash}, ss58Format ${spec.properties && spec.properties.ss58Format}`);

  step('reading a finalized block');
  const fin = await client.getFinalizedBlock();
  const header = await client.getBlockHeader(fin.hash);
  check(header.number === fin.number, `header #${header.number}, finalized #${fin.number}`);
  const body = await client.getBlockBody(fin.hash);
  check(Array.isArray(body) && body.length >= 1, `block #${fin.number} body has ${body && body.length} extrinsics`);
  ok(`chainHead_v1: finalized #${fin.number} ${fin.hash}, ${body.length} extrinsic(s)`);

  step('reading storage');
  const api = client.getUnsafeApi();
  const bob = hexToU8a(bobHex);
  // PAPI reads sp_core::crypto::AccountId32 as an SS58 string of the chain's prefix.
  const bobSs58 = encodeAddress(bob, 59);
  const readFree = async (who = bobSs58) => {
    // FRAME's AccountInfo { nonce, consumers, providers, sufficients, data }.
    const account = await api.query.System.Account.getValue(who);
    const free = account && account.data && account.data.free;
    check(typeof free === 'bigint', `System.Account(${who}) is ${JSON.stringify(account, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    check(account.data.reserved === 0n, `System.Account(${who}).data.reserved is ${account.data.reserved}`);
    return free;
  };
  const before = await readFree();
  check(before > 0n, `bob's free balance is ${before}`);
  ok(`storage: System.Account(bob).data.free = ${before}`);

  step('signing and submitting a transfer');
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const aliceSs58 = encodeAddress(accountId(alice), 59);
  const aliceBefore = await readFree(aliceSs58);
  check(aliceBefore > 0n, `Alice's free balance is ${aliceBefore}`);
  ok(`storage: System.Account(alice).data.free = ${aliceBefore}`);
  const amount = 1234567n;
  // Balances.transfer_keep_alive, by the name every Substrate wallet uses.
  const tx = api.tx.Balances.transfer_keep_alive({ dest: { type: 'Id', value: bobSs58 }, value: amount });
  const result = await tx.signAndSubmit(qstackSigner(alice));
  check(result.ok, `the transfer failed: ${JSON.stringify(result.dispatchError)}`);
  const transfer = result.events.find((e) => e.type === 'Tokens' && e.value.type === 'Transfer');
  check(transfer, `no Tokens.Transfer event among ${result.events.map((e) => `${e.type}.${e.value.type}`).join(', ')}`);
  check(transfer.value.value.amount === amount, `Transfer amount ${transfer.value.value.amount}`);
  ok(`transaction: ${result.txHash} finalized in block #${result.block.number} with Tokens.Transfer of ${amount}`);

  const after = await readFree();
  check(after === before + amount, `bob's balance ${after}, expected ${before + amount}`);
  ok(`storage after: System.Account(bob).data.free = ${after}`);
  const aliceAfter = await readFree(aliceSs58);
  check(aliceAfter < aliceBefore - amount, `Alice's balance ${aliceAfter}, expected below ${aliceBefore - amount} (amount and fee)`);
  ok(`storage after: System.Account(alice).data.free = ${aliceAfter} (paid ${aliceBefore - aliceAfter - amount} in fees)`);
  check(u8aToHex(bob) === bobHex.toLowerCase(), 'bob id round trip');

  client.destroy();
  ok('all checks passed');
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
