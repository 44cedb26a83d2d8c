// Cost of the key module in Node.js, per scheme: key derivation from a
// SURI, signing and verifying a 200-byte payload (a transfer's signed
// payload is about that long). Run: node bench.mjs [path-to-wasm]
// (after `npm run build`, or with QSTACK_KEYS_WASM set).

import { loadKeys, SCHEMES } from './src/index.mjs';

const keys = await loadKeys(process.argv[2]);
const message = '0x' + 'ab'.repeat(200);

function time(n, f) {
  f();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - start) / 1e6 / n;
}

// V8 compiles Wasm in tiers: a first pass over every scheme warms all the
// shared code (hashing, JSON, hex) so no scheme is timed on baseline code.
for (const pass of [0, 1]) {
if (pass === 1) console.log('scheme      derive ms   sign ms   verify ms');
for (const scheme of SCHEMES) {
  const derive = time(5, () => keys.pair(scheme, '//Alice').forget());
  const key = keys.pair(scheme, '//Alice');
  let signature;
  const sign = time(200, () => {
    signature = key.sign(message);
  });
  const verify = time(400, () => {
    if (!keys.verify(key.publicKey, message, signature)) throw new Error('bad signature');
  });
  key.forget();
  if (pass === 1) console.log(`${scheme.padEnd(10)} ${derive.toFixed(2).padStart(9)} ${sign.toFixed(3).padStart(9)} ${verify.toFixed(3).padStart(11)}`);
}
}
