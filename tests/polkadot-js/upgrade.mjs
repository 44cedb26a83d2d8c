// Checks that @polkadot/api follows a forkless runtime upgrade on one
// connection: it subscribes to the runtime version, and when the node
// announces the new spec_version it loads the new metadata by itself, so
// the new runtime's calls appear without reconnecting. Then it decodes the
// block in which the CLI used the new call.
//
// Usage: node upgrade.mjs <ws-url> <spec_version to wait for> <pallet.call>
// Prints "ready" once subscribed (the test upgrades only then), then one
// line per check; reads the hash of the block to decode from stdin; exits
// 1 with the reason at the first failure.

import { ApiPromise, WsProvider } from '@polkadot/api';

const TIMEOUT_SECS = 110;

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

function ok(msg) {
  console.log(`ok: ${msg}`);
}

async function lineFromStdin() {
  let buf = '';
  for await (const chunk of process.stdin) {
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl >= 0) return buf.slice(0, nl).trim();
  }
  return buf.trim();
}

async function main() {
  const [url, wanted, call] = process.argv.slice(2);
  if (!url || !wanted || !call) fail('usage: node upgrade.mjs <ws-url> <spec_version> <pallet.call>');
  const [pallet, method] = call.split('.');
  setTimeout(() => fail(`timed out after ${TIMEOUT_SECS} s`), TIMEOUT_SECS * 1000);
  const provider = new WsProvider(url, 1000);
  const api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
  const before = api.runtimeVersion.specVersion.toNumber();
  if (api.tx[pallet] && api.tx[pallet][method]) fail(`${call} exists before the upgrade (spec ${before})`);
  const seen = new Promise((resolve) => {
    api.rpc.state.subscribeRuntimeVersion((v) => {
      if (v.specVersion.toNumber() >= Number(wanted)) resolve(v.specVersion.toNumber());
    });
  });
  console.log('ready');
  const announced = await seen;
  ok(`state_subscribeRuntimeVersion announced spec ${announced} (was ${before})`);
  // polkadot.js reloads the metadata on a new version; wait for it to land.
  for (let i = 0; i < 100 && api.runtimeVersion.specVersion.toNumber() < Number(wanted); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (api.runtimeVersion.specVersion.toNumber() < Number(wanted)) fail('the api did not switch to the new runtime');
  if (!(api.tx[pallet] && api.tx[pallet][method])) fail(`${call} is missing from the new metadata`);
  ok(`api.tx.${pallet}.${method} exists on the same connection`);
  const hash = await lineFromStdin();
  const block = await api.rpc.chain.getBlock(hash);
  const found = block.block.extrinsics.find((x) => x.method.section === pallet && x.method.method === method);
  if (!found) fail(`no ${call} in block ${hash}`);
  ok(`decoded ${found.method.section}.${found.method.method} in ${hash}, signed by ${found.signer.toString().slice(0, 16)}…`);
  await api.disconnect();
  ok('all checks passed');
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
