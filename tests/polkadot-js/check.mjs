// Checks that @polkadot/api, a generic Substrate client, reads a qstack chain
// with no qstack-specific options at all: runtime version, metadata, the
// latest block's extrinsics and events, given blocks' signed transfers
// (decoded field by field), and new heads; and that it logs no warning about
// the runtime's types or signed extensions.
//
// Usage: node check.mjs <ws-url> [--transfer <json>]...
//   <json> = {"block":"0x…","from":"0x<account id>","to":"0x<account id>",
//             "amount":"123","scheme":"sr25519|falcon512|mldsa44|hybrid",
//             "signer":"key|id","nonce":0,"destTag":7,
//             "form":"master|regular|multi","signerSchemes":["hybrid",…],"ticket":5}
//   (signer, nonce, destTag, form, signerSchemes and ticket optional; `scheme`
//   is the regular key's for form "regular" and ignored for "multi", whose
//   signers' schemes are listed in order)
// Prints one line per check; exits 1 with the reason at the first failure.

import { ApiPromise, WsProvider } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { check, fail, ok, step } from './report.mjs';

const TIMEOUT_SECS = 50;
const HEADS_TO_FOLLOW = 3;
const SCHEME_VARIANTS = { sr25519: 'Sr25519', falcon512: 'Falcon512', mldsa44: 'MlDsa44', hybrid: 'Hybrid' };

function parseArgs(argv) {
  const [url, ...rest] = argv;
  if (!url || !/^wss?:\/\//.test(url)) {
    fail('usage: node check.mjs <ws-url> [--transfer <json>]...');
  }
  const transfers = [];
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] !== '--transfer' || rest[i + 1] === undefined) fail(`unexpected argument ${rest[i]}`);
    let t;
    try {
      t = JSON.parse(rest[i + 1]);
    } catch (e) {
      fail(`--transfer is not JSON: ${e.message}`);
    }
    for (const k of ['block', 'from', 'to', 'amount', 'scheme']) check(t[k] !== undefined, `--transfer lacks "${k}"`);
    check(SCHEME_VARIANTS[t.scheme], `unknown scheme ${t.scheme}`);
    transfers.push(t);
  }
  return { url, transfers };
}

/** Warnings polkadot.js logs while it loads the chain (console.warn). */
const warnings = [];
const consoleWarn = console.warn;
console.warn = (...args) => {
  warnings.push(args.map(String).join(' '));
  consoleWarn(...args);
};

/**
 * The account behind a qstack address, which is Substrate's MultiAddress:
 * `Id` is the account id, `Raw` the SCALE-encoded public key, whose
 * blake2-256 is the account id.
 */
function signerAccount(api, address) {
  // polkadot.js reads it as its GenericMultiAddress (by the FRAME path).
  if (address.type === 'Id') return { kind: 'id', account: u8aToHex(address.value.toU8a()) };
  if (address.type === 'Raw') return { kind: 'key', account: api.registry.hash(address.value.toU8a(true)).toHex() };
  return fail(`signer is neither Id nor Raw: ${address.type}`);
}

/** CheckNonce's value with bit 31 set spends a ticket (the rest) instead of the nonce. */
const TICKET_FLAG = 2 ** 31;

/** An event's fields by name. */
function fields(event) {
  const names = event.data.names;
  check(names && names.length === event.data.length, `${event.section}.${event.method} has unnamed fields`);
  return Object.fromEntries(names.map((n, i) => [n, event.data[i]]));
}

/** Decodes block `hash` and checks polkadot.js re-encodes every extrinsic to the node's exact bytes. */
async function decodeBlock(api, provider, hash) {
  const signed = await api.rpc.chain.getBlock(hash);
  const raw = await provider.send('chain_getBlock', [hash]);
  const exts = signed.block.extrinsics;
  check(exts.length === raw.block.extrinsics.length, `block ${hash}: ${exts.length} extrinsics decoded, node sent ${raw.block.extrinsics.length}`);
  exts.forEach((ex, i) => {
    check(ex.toHex() === raw.block.extrinsics[i], `block ${hash} extrinsic ${i}: re-encoding differs from the node's bytes`);
    const meta = api.registry.findMetaCall(ex.callIndex);
    check(meta.section === ex.method.section && meta.method === ex.method.method, `extrinsic ${i}: call index does not match metadata`);
  });
  const events = await (await api.at(hash)).query.system.events();
  check(Array.isArray(events), `System.Events decodes to ${events.toRawType()}, expected a Vec`);
  const outcome = new Map();
  for (const r of events) {
    check(r.event.section && r.event.method, 'an event without section/method');
    if (r.phase.isApplyExtrinsic) {
      const i = r.phase.asApplyExtrinsic.toNumber();
      check(i < exts.length, `event ${r.event.section}.${r.event.method} for extrinsic ${i} of ${exts.length}`);
      if (r.event.section === 'system' && ['ExtrinsicSuccess', 'ExtrinsicFailed'].includes(r.event.method)) {
        check(!outcome.has(i), `extrinsic ${i} has two outcomes`);
        outcome.set(i, r.event.method);
      }
    }
  }
  exts.forEach((_, i) => check(outcome.has(i), `extrinsic ${i} of ${hash} has no ExtrinsicSuccess/ExtrinsicFailed event`));
  return { number: signed.block.header.number.toNumber(), exts, events, outcome };
}

function describe(api, ex) {
  const call = `${ex.method.section}.${ex.method.method}`;
  if (!ex.isSigned) return `${call} (unsigned)`;
  const { kind, account } = signerAccount(api, ex.signer);
  const sig = ex.inner.signature.multiSignature;
  const how = sig.type === 'Regular' ? `Regular(${sig.asRegular.type})` : sig.type === 'Multi' ? `Multi(${sig.asMulti.length})` : sig.type;
  const n = ex.nonce.toNumber();
  const seq = n >= TICKET_FLAG ? `ticket ${n - TICKET_FLAG}` : `nonce ${n}`;
  return `${call} signed ${how} by ${kind} of ${account}, ${seq}`;
}

async function checkRuntime(api) {
  step('runtime version');
  const v = await api.rpc.state.getRuntimeVersion();
  check(v.specName.toString() === 'qstack', `specName is ${v.specName}, expected qstack`);
  check(v.implName.toString() === 'qstack-runtime', `implName is ${v.implName}`);
  check(v.specVersion.toNumber() >= 1 && v.transactionVersion.toNumber() >= 1, `specVersion ${v.specVersion}, transactionVersion ${v.transactionVersion}`);
  check(v.specVersion.eq(api.runtimeVersion.specVersion), 'state_getRuntimeVersion disagrees with what the api loaded');
  const apis = v.apis.map(([id]) => id.toHex());
  for (const [name, id] of [['Core', '0xdf6acb689907609b'], ['Metadata', '0x37e397fc7c91f5e4']]) {
    check(apis.includes(id), `runtime does not declare the ${name} api`);
  }
  ok(`runtime ${v.specName}/${v.implName} spec ${v.specVersion} tx ${v.transactionVersion}, ${apis.length} apis`);

  step('chain');
  const [chain, genesis] = await Promise.all([api.rpc.system.chain(), api.rpc.chain.getBlockHash(0)]);
  check(genesis.eq(api.genesisHash), `block 0 is ${genesis}, api.genesisHash ${api.genesisHash}`);
  ok(`chain "${chain}", genesis ${genesis.toHex()}`);
}

async function checkMetadata(api) {
  step('metadata');
  const version = api.runtimeMetadata.version;
  check([14, 15].includes(version), `the api loaded metadata V${version}`);
  const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
  for (const p of ['System', 'Tokens', 'Balances']) check(pallets.includes(p), `metadata lacks pallet ${p}: ${pallets}`);
  for (const call of ['transfer', 'issue', 'mint', 'transferToken', 'approve', 'transferFrom', 'freeze', 'noFreeze']) {
    check(typeof api.tx.tokens[call] === 'function', `no api.tx.tokens.${call}`);
  }
  for (const ev of ['Transfer', 'Approval', 'Frozen', 'Unfrozen', 'Paused', 'GlobalFreeze', 'NoFreeze', 'Issued', 'Minted', 'Burned', 'FeePaid']) {
    check(api.events.tokens[ev], `no api.events.tokens.${ev}`);
  }
  for (const call of ['transferAllowDeath', 'transferKeepAlive', 'transferAll']) {
    check(typeof api.tx.balances[call] === 'function', `no api.tx.balances.${call}`);
  }
  // Where wallets and api.derive.balances look for the existential deposit.
  const ed = api.consts.balances.existentialDeposit;
  check(ed && ed.toBigInt() > 0n, `Balances.ExistentialDeposit decodes to ${ed}`);
  // Storage keys from metadata: the holdings double map.
  check(typeof api.query.tokens.holdings === 'function', 'no api.query.tokens.holdings');
  // Balances, nonces and counts read as Substrate's ValueQuery: an unknown
  // account has zero, not None; System.Account has FRAME's AccountInfo.
  const nobody = '0x' + '11'.repeat(32);
  const sys = await api.query.system.account(nobody);
  check(sys.nonce !== undefined && sys.nonce.isZero(), `system.account(unknown) is ${sys.toRawType()} ${sys}, expected nonce 0`);
  for (const f of ['consumers', 'providers', 'sufficients']) check(sys[f] !== undefined && sys[f].isZero(), `system.account(unknown).${f} is ${sys[f]}`);
  for (const f of ['free', 'reserved', 'frozen', 'flags']) check(sys.data && sys.data[f] !== undefined && sys.data[f].isZero(), `system.account(unknown).data.${f} is ${sys.data && sys.data[f]}`);
  const issuance = await api.query.tokens.totalIssuance();
  check(issuance.toBigInt() > 0n, `tokens.totalIssuance is ${issuance}`);
  // state_getMetadata serves V14 (Metadata_metadata); decode it as well.
  const v14 = await api.rpc.state.getMetadata();
  check(v14.version === 14, `state_getMetadata is V${v14.version}, expected V14`);
  const pallets14 = v14.asLatest.pallets.map((p) => p.name.toString());
  check(pallets14.join() === pallets.join(), `V14 pallets ${pallets14} differ from V${version} ${pallets}`);
  ok(`metadata V${version} (and V14): pallets ${pallets.join(', ')}; existential deposit ${ed}`);
}

async function checkLatestBlock(api, provider) {
  step('latest block');
  const hash = (await api.rpc.chain.getBlockHash()).toHex();
  const { number, exts, events } = await decodeBlock(api, provider, hash);
  check(exts.some((ex) => !ex.isSigned && ex.method.section === 'timestamp' && ex.method.method === 'set'), `block #${number} has no timestamp.set inherent`);
  ok(`latest block #${number} ${hash}: ${exts.length} extrinsics, ${events.length} events`);
  exts.forEach((ex, i) => console.log(`    [${i}] ${describe(api, ex)}`));
}

async function checkTransfer(api, provider, t) {
  step(`transfer in ${t.block}`);
  const { number, exts, events, outcome } = await decodeBlock(api, provider, t.block);
  const mine = exts
    .map((ex, i) => ({ ex, i }))
    .filter(({ ex }) => ex.isSigned && signerAccount(api, ex.signer).account === t.from);
  check(mine.length === 1, `${mine.length} signed extrinsics from ${t.from} in block #${number}: ${exts.map((e) => describe(api, e)).join('; ')}`);
  const { ex, i } = mine[0];
  const sig = ex.inner.signature;
  const form = t.form || 'master';
  if (form === 'master') {
    check(sig.multiSignature.type === SCHEME_VARIANTS[t.scheme], `signature is ${sig.multiSignature.type}, expected ${SCHEME_VARIANTS[t.scheme]}`);
  } else if (form === 'regular') {
    check(sig.multiSignature.type === 'Regular', `signature is ${sig.multiSignature.type}, expected Regular`);
    const inner = sig.multiSignature.asRegular.type;
    check(inner === SCHEME_VARIANTS[t.scheme], `regular-key signature is ${inner}, expected ${SCHEME_VARIANTS[t.scheme]}`);
  } else if (form === 'multi') {
    check(sig.multiSignature.type === 'Multi', `signature is ${sig.multiSignature.type}, expected Multi`);
    const entries = sig.multiSignature.asMulti;
    const want = t.signerSchemes || [];
    check(entries.length === want.length, `${entries.length} signatures in the multi-signature, expected ${want.length}`);
    entries.forEach((e, k) => {
      check(e.signature.type === SCHEME_VARIANTS[want[k]], `signer ${k} signed ${e.signature.type}, expected ${SCHEME_VARIANTS[want[k]]}`);
      check(['Master', 'Regular', 'Key'].includes(e.signer.type), `signer ${k} is ${e.signer.type}`);
    });
  } else {
    fail(`unknown form ${form}`);
  }
  const sequence = ex.nonce.toNumber();
  const ticket = sequence >= TICKET_FLAG ? sequence - TICKET_FLAG : null;
  if (t.ticket !== undefined) {
    check(ticket === t.ticket, `ticket ${ticket} (CheckNonce ${sequence}), expected ${t.ticket}`);
  } else {
    check(ticket === null, `ticket ${ticket} (CheckNonce ${sequence}), expected none`);
  }
  if (t.signer) check(signerAccount(api, ex.signer).kind === t.signer, `signer is by ${signerAccount(api, ex.signer).kind}, expected by ${t.signer}`);
  if (t.nonce !== undefined) check(ticket === null && sequence === t.nonce, `nonce ${sequence}, expected ${t.nonce}`);
  check(ex.method.section === 'tokens' && ex.method.method === 'transfer', `call is ${ex.method.section}.${ex.method.method}`);
  const args = Object.fromEntries(ex.method.meta.args.map((a, k) => [a.name.toString(), ex.method.args[k]]));
  check(args.dest && args.dest.toHex() === t.to, `dest ${args.dest && args.dest.toHex()}, expected ${t.to}`);
  check(args.value && args.value.toBigInt() === BigInt(t.amount), `value ${args.value}, expected ${t.amount}`);
  const destTag = t.destTag === undefined ? null : t.destTag;
  check(args.destTag !== undefined, `no destTag argument: ${Object.keys(args)}`);
  check(args.destTag.isNone ? destTag === null : args.destTag.unwrap().toNumber() === destTag, `destTag ${args.destTag}, expected ${destTag}`);
  check(outcome.get(i) === 'ExtrinsicSuccess', `extrinsic ${i}: ${outcome.get(i)}`);
  const mine_events = events.filter((r) => r.phase.isApplyExtrinsic && r.phase.asApplyExtrinsic.toNumber() === i);
  const transfer = mine_events.filter((r) => api.events.tokens.Transfer.is(r.event));
  check(transfer.length === 1, `${transfer.length} Tokens.Transfer events for extrinsic ${i}`);
  const f = fields(transfer[0].event);
  check(f.asset.isNative && f.from.toHex() === t.from && f.to.toHex() === t.to && f.amount.toBigInt() === BigInt(t.amount)
    && (f.destTag.isNone ? destTag === null : f.destTag.unwrap().toNumber() === destTag),
    `Tokens.Transfer is ${JSON.stringify(transfer[0].event.data.toJSON())}, expected native ${t.from} -> ${t.to} ${t.amount} tag ${destTag}`);
  const fee = mine_events.filter((r) => api.events.tokens.FeePaid.is(r.event));
  check(fee.length === 1, `${fee.length} Tokens.FeePaid events for extrinsic ${i}`);
  const paid = fields(fee[0].event);
  check(paid.who.toHex() === t.from && paid.amount.toBigInt() > 0n
    && paid.toAuthor.toBigInt() + paid.toTreasury.toBigInt() + paid.burned.toBigInt() === paid.amount.toBigInt(),
    `Tokens.FeePaid is ${JSON.stringify(fee[0].event.data.toJSON())}`);
  ok(`block #${number} extrinsic ${i}: ${describe(api, ex)}; transfer ${t.amount} to ${t.to} (tag ${destTag}); Tokens.Transfer and FeePaid events match`);
}

async function followHeads(api) {
  step('new heads');
  const heads = [];
  let enough;
  const followed = new Promise((resolve) => {
    enough = resolve;
  });
  const unsubscribe = await api.rpc.chain.subscribeNewHeads((h) => {
    if (heads.length === HEADS_TO_FOLLOW) return;
    heads.push(h);
    console.log(`    new head #${h.number} ${h.hash.toHex()}`);
    if (heads.length === HEADS_TO_FOLLOW) enough();
  });
  await followed;
  unsubscribe();
  for (let k = 1; k < heads.length; k++) {
    const [a, b] = [heads[k - 1], heads[k]];
    check(b.number.toNumber() > a.number.toNumber(), `heads not increasing: #${a.number} then #${b.number}`);
    if (b.number.toNumber() === a.number.toNumber() + 1) {
      check(b.parentHash.eq(a.hash), `#${b.number}'s parent is ${b.parentHash}, not #${a.number} ${a.hash}`);
    }
  }
  for (const h of heads) {
    const canonical = await api.rpc.chain.getBlockHash(h.number.toNumber());
    check(canonical.eq(h.hash), `head #${h.number} hashes to ${h.hash}, chain_getBlockHash says ${canonical}`);
  }
  ok(`followed ${heads.length} new heads #${heads[0].number}..#${heads[heads.length - 1].number}`);
}

// System.Account and api.derive.balances.all, as wallets read a balance,
// against the node's own account_info: free is the whole balance, frozen
// the reserve the account keeps for the objects it owns (none: zero, and
// all of it is transferable).
async function checkBalances(api, provider, who) {
  step(`balances of ${who} (query.system.account, derive.balances.all)`);
  const rpc = await provider.send('account_info', [who]);
  const info = await api.query.system.account(who);
  check(info.data.free.toString() === rpc.free, `system.account data.free ${info.data.free} != account_info free ${rpc.free}`);
  check(info.nonce.toNumber() === rpc.nonce, `system.account nonce ${info.nonce} != account_info nonce ${rpc.nonce}`);
  const owned = rpc.reserve.owned;
  check(info.consumers.toNumber() === owned, `system.account consumers ${info.consumers} != objects owned ${owned}`);
  const lock = owned > 0 ? BigInt(rpc.reserve.locked) : 0n;
  check(info.data.frozen.toBigInt() === lock, `system.account data.frozen ${info.data.frozen}, expected the reserve ${lock}`);
  check(info.data.reserved.isZero(), `system.account data.reserved ${info.data.reserved}`);
  const all = await api.derive.balances.all(who);
  check(all.freeBalance.toString() === rpc.free, `derive.balances.all freeBalance ${all.freeBalance} != ${rpc.free}`);
  check(all.reservedBalance.isZero(), `derive.balances.all reservedBalance ${all.reservedBalance}`);
  const frozen = all.frameSystemAccountInfo && all.frameSystemAccountInfo.frozen;
  check(frozen && frozen.toBigInt() === lock, `derive.balances.all frameSystemAccountInfo.frozen ${frozen}, expected ${lock}`);
  const transferable = BigInt(rpc.free) - lock;
  check(all.transferable && all.transferable.toBigInt() === transferable, `derive.balances.all transferable ${all.transferable}, expected ${transferable}`);
  check(all.accountNonce.toNumber() === rpc.nonce, `derive.balances.all accountNonce ${all.accountNonce} != ${rpc.nonce}`);
  ok(`balances of ${who}: free ${all.freeBalance}, frozen ${frozen}, transferable ${all.transferable}, nonce ${all.accountNonce} (System.Account and derive.balances.all agree with account_info)`);
}

async function checkRuntimeApis(api, provider, transfers) {
  step('runtime APIs from V15 metadata (api.call)');
  for (const [section, method] of [
    ['accountNonceApi', 'accountNonce'],
    ['qstackAccountApi', 'accountInfo'],
    ['qstackTokensApi', 'tokenBalances'],
    ['metadata', 'metadataVersions'],
  ]) {
    check(api.call[section] && api.call[section][method], `api.call.${section}.${method} is not decorated from metadata`);
  }
  const versions = (await api.call.metadata.metadataVersions()).map((v) => v.toNumber());
  check(versions.includes(14) && versions.includes(15), `metadataVersions ${versions}`);
  // The receiver of the transfers: its state read through api.call must
  // match the node's own JSON-RPC view.
  const to = transfers.length ? transfers[0].to : null;
  if (to) {
    const nonce = (await api.call.accountNonceApi.accountNonce(to)).toNumber();
    const info = await api.call.qstackAccountApi.accountInfo(to);
    const rpc = await provider.send('account_info', [to]);
    check(nonce === rpc.nonce, `accountNonce ${nonce} != account_info nonce ${rpc.nonce}`);
    check(info.free.toString() === rpc.free, `accountInfo.free ${info.free} != account_info free ${rpc.free}`);
    await checkBalances(api, provider, to);
    await checkBalances(api, provider, transfers[0].from);
    const balances = await api.call.qstackTokensApi.tokenBalances(to);
    check(balances.length >= 1 && balances[0].asset.isNative, 'tokenBalances does not start with the native balance');
    check(balances[0].holding.free.toString() === rpc.free, `tokenBalances native ${balances[0].holding.free} != ${rpc.free}`);
    ok(`api.call: accountNonce ${nonce}, accountInfo free ${info.free}, ${balances.length} token balance(s), metadata versions ${versions}`);
  } else {
    ok(`api.call: metadata versions ${versions}`);
  }
}

async function main() {
  const { url, transfers } = parseArgs(process.argv.slice(2));
  // Also keeps the process alive, so a promise that never settles fails here
  // instead of ending the process quietly.
  setTimeout(() => fail(`timed out after ${TIMEOUT_SECS} s`), TIMEOUT_SECS * 1000);

  step(`connecting to ${url}`);
  const provider = new WsProvider(url, 1000);
  // No types, no signed extensions, warnings on: what any app does.
  const api = await ApiPromise.create({ provider, throwOnConnect: true }).catch((e) =>
    fail(`cannot connect (is the node running?): ${e && e.message ? e.message : (e && e.type) || e}`),
  );
  ok(`connected to ${url} with no qstack-specific options`);
  step('loading the chain');
  const about = warnings.filter((w) => /PORTABLEREGISTRY|Unknown signed extensions|Unable to determine/.test(w));
  check(about.length === 0, `polkadot.js warned: ${about.join(' | ')}`);
  ok('polkadot.js found the Call, Event and Extrinsic types and every signed extension without a warning');

  await checkRuntime(api);
  await checkMetadata(api);
  await checkLatestBlock(api, provider);
  for (const t of transfers) await checkTransfer(api, provider, t);
  await checkRuntimeApis(api, provider, transfers);
  await followHeads(api);

  step('disconnecting');
  await api.disconnect();
  ok('all checks passed');
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
