"""Checks that substrate-interface (py-substrate-interface, a generic Substrate
client from PyPI) reads a qstack chain with no qstack-specific options: no
custom type registry, no preset, no type overrides. It reads the runtime
version and the chain properties, `System.Account` of one account (and its
free balance), and blocks with signed transfers: their extrinsics decoded
field by field and their `System.Events`. Fails if the library warns.

Usage: python check.py <ws-url> --ss58-format <n> --account <json>
                       [--transfer <json>]...
  --account  {"accountId":"0x…","ss58Address":"…","nonce":2,"free":"123"}
             (the account to read, with what the node's `account_info` says)
  --transfer {"block":"0x…","from":"0x<account id>","to":"0x<account id>",
              "amount":"123","scheme":"sr25519","signer":"key|id","nonce":0,
              "destTag":7}
             (scheme, signer, nonce and destTag optional)
Prints one line per check; exits 1 with the reason at the first failure.
"""

import argparse
import hashlib
import json
import logging
import signal
import sys
import warnings

TIMEOUT_SECS = 60
SCHEME_VARIANTS = {
    "sr25519": "Sr25519",
    "falcon512": "Falcon512",
    "mldsa44": "MlDsa44",
    "hybrid": "Hybrid",
}
# CheckNonce's value with bit 31 set spends a ticket instead of the nonce.
TICKET_FLAG = 2**31

step = "starting"


def fail(msg):
    print(f"FAIL ({step}): {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def ok(msg):
    print(f"ok: {msg}", flush=True)


# What the library says while it works. substrate-interface and scalecodec
# raise on a type they cannot decode rather than log; whatever they do log
# or warn at WARNING and above fails the check all the same.
logged = []
python_warnings = []


class Collect(logging.Handler):
    def emit(self, record):
        logged.append(f"{record.name}: {record.getMessage()}")


def collect_warning(message, category, filename, lineno, file=None, line=None):
    python_warnings.append((category, f"{category.__name__}: {message} ({filename}:{lineno})"))


def check_no_warnings():
    check(not logged, "substrate-interface logged: " + " | ".join(logged))
    # A deprecation is about this script's use of the API, not about the
    # chain's types: shown, not fatal.
    bad = [
        text
        for category, text in python_warnings
        if not issubclass(category, (DeprecationWarning, PendingDeprecationWarning))
    ]
    check(not bad, "substrate-interface warned: " + " | ".join(bad))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("--ss58-format", type=int, required=True)
    p.add_argument("--account", required=True)
    p.add_argument("--transfer", action="append", default=[])
    a = p.parse_args()
    check(a.url.startswith(("ws://", "wss://")), f"not a ws URL: {a.url}")

    def parse(flag, text, keys):
        try:
            v = json.loads(text)
        except ValueError as e:
            fail(f"{flag} is not JSON: {e}")
        for k in keys:
            check(k in v, f'{flag} lacks "{k}"')
        return v

    a.account = parse("--account", a.account, ["accountId", "ss58Address", "nonce", "free"])
    a.account["free"] = int(a.account["free"])
    a.transfer = [parse("--transfer", t, ["block", "from", "to", "amount"]) for t in a.transfer]
    for t in a.transfer:
        t["amount"] = int(t["amount"])
        check(t.get("scheme", "sr25519") in SCHEME_VARIANTS, f"unknown scheme {t.get('scheme')}")
    return a


def account_hex(substrate, value, what):
    """The `0x…` account id of an `AccountId` as the library decoded it: hex,
    or an SS58 address, which must then carry the chain's prefix."""
    check(isinstance(value, str), f"{what} decodes to {value!r}, not an account id")
    if value.startswith("0x"):
        check(len(value) == 66, f"{what} is {value}, not 32 bytes")
        return value.lower()
    from substrateinterface.utils.ss58 import ss58_decode

    try:
        return "0x" + ss58_decode(value, valid_ss58_format=substrate.ss58_format)
    except ValueError as e:
        fail(f"{what} is {value}, not an SS58 address of prefix {substrate.ss58_format}: {e}")


def signer_account(substrate, address):
    """`(kind, account id)` of a MultiAddress: `Id` is the account id, `Raw`
    the SCALE-encoded public key, whose blake2-256 is the account id."""
    if isinstance(address, dict) and set(address) == {"Raw"}:
        raw = bytes.fromhex(address["Raw"][2:])
        return "key", "0x" + hashlib.blake2b(raw, digest_size=32).hexdigest()
    if isinstance(address, dict) and set(address) == {"Id"}:
        address = address["Id"]
    if isinstance(address, str):
        return "id", account_hex(substrate, address, "the signer")
    fail(f"signer is neither Id nor Raw: {address!r}")


def call_args(call):
    return {a["name"]: a["value"] for a in call["call_args"]}


def describe(substrate, ex):
    v = ex.value
    call = f"{v['call']['call_module']}.{v['call']['call_function']}"
    if "address" not in v:
        return f"{call} (unsigned)"
    kind, account = signer_account(substrate, v["address"])
    sig = v["signature"]
    how = next(iter(sig)) if isinstance(sig, dict) else repr(sig)
    n = v.get("nonce")
    seq = f"ticket {n - TICKET_FLAG}" if isinstance(n, int) and n >= TICKET_FLAG else f"nonce {n}"
    return f"{call} signed {how} by {kind} of {account}, {seq}"


def check_runtime(substrate, expected_ss58):
    global step
    step = "runtime version"
    v = substrate.rpc_request("state_getRuntimeVersion", [])["result"]
    check(v["specName"] == "qstack", f"specName is {v['specName']}, expected qstack")
    check(v["implName"] == "qstack-runtime", f"implName is {v['implName']}")
    check(
        v["specVersion"] >= 1 and v["transactionVersion"] >= 1,
        f"specVersion {v['specVersion']}, transactionVersion {v['transactionVersion']}",
    )
    substrate.init_runtime()
    check(
        substrate.runtime_version == v["specVersion"],
        f"the library loaded spec {substrate.runtime_version}, the node runs {v['specVersion']}",
    )
    check(
        substrate.transaction_version == v["transactionVersion"],
        f"the library loaded transaction version {substrate.transaction_version}",
    )
    check(substrate.implements_scaleinfo(), "the metadata has no type registry (V14+)")
    ok(
        f"runtime {v['specName']}/{v['implName']} spec {v['specVersion']} "
        f"tx {v['transactionVersion']}, metadata V{substrate.metadata.value_object[1].index}"
        f" ({len(substrate.get_metadata_modules())} pallets)"
    )

    step = "chain properties"
    props = substrate.properties
    check(isinstance(props, dict), f"system_properties is {props!r}")
    check(
        props.get("ss58Format") == expected_ss58,
        f"ss58Format is {props.get('ss58Format')!r}, expected {expected_ss58}",
    )
    check(
        substrate.ss58_format == expected_ss58,
        f"the library uses SS58 prefix {substrate.ss58_format}, expected {expected_ss58}",
    )
    ok(
        f'chain "{substrate.chain}" ({substrate.name} {substrate.version}): ss58Format '
        f"{props['ss58Format']}, token {substrate.token_symbol} with {substrate.token_decimals} decimals"
    )


def check_account(substrate, account):
    global step
    step = f"System.Account of {account['accountId']}"
    address = account["ss58Address"]
    encoded = substrate.ss58_encode(account["accountId"])
    check(encoded == address, f"ss58_encode({account['accountId']}) is {encoded}, the CLI says {address}")
    check(
        "0x" + substrate.ss58_decode(address) == account["accountId"],
        f"ss58_decode({address}) is not {account['accountId']}",
    )
    info = substrate.query("System", "Account", [account["accountId"]]).value
    check(isinstance(info, dict) and "nonce" in info, f"System.Account is {info!r}, expected a nonce")
    check(info["nonce"] == account["nonce"], f"nonce {info['nonce']}, account_info says {account['nonce']}")
    # FRAME's AccountInfo { nonce, consumers, providers, sufficients,
    # data: { free, reserved, frozen, flags } }.
    check(isinstance(info.get("data"), dict), f"System.Account is {info!r}, expected FRAME's AccountInfo with data")
    for field in ("consumers", "providers", "sufficients"):
        check(field in info, f"System.Account has no {field}: {info!r}")
    for field in ("free", "reserved", "frozen", "flags"):
        check(field in info["data"], f"System.Account data has no {field}: {info['data']!r}")
    free = info["data"]["free"]
    where = "System.Account data.free"
    check(free == account["free"], f"{where} is {free!r}, account_info says {account['free']}")
    ok(f"{address}: System.Account {json.dumps(info)}; {where} = {free}")

    # Storage maps read as ValueQuery: an unknown account has the default.
    step = "System.Account of an unknown account"
    nobody = "0x" + "11" * 32
    info = substrate.query("System", "Account", [nobody]).value
    check(isinstance(info, dict) and info.get("nonce") == 0, f"System.Account(unknown) is {info!r}, expected nonce 0")
    check(info.get("data", {}).get("free") == 0, f"System.Account(unknown).data is {info.get('data')!r}")
    ok(f"unknown account: System.Account {json.dumps(info)}")


def check_types(substrate):
    """The types substrate-interface picks by path, which `get_block` and
    `System.Events` need. It decodes a type whose path matches one of its
    own (`*::Call` is the outer call, with a pallet index first;
    `sp_runtime::generic::digest::DigestItem` the header's digest items)
    with its own class, so a pallet's call or event enum at `<crate>::Call`
    decodes as if it were the runtime's; FRAME's is `<crate>::pallet::Call`.
    Lists every such type at once, where decoding would stop at the first."""
    global step
    step = "types by path"
    from scalecodec.types import GenericCall, GenericScaleInfoEvent

    rc = substrate.runtime_config
    problems = []
    for p in substrate.metadata.pallets:
        for field, outer, kind in (("calls", GenericCall, "Call"), ("event", GenericScaleInfoEvent, "Event")):
            if p[field].value is None:
                continue
            cls = rc.get_decoder_class(p[field].value_object.get_type_string())
            if cls is not None and issubclass(cls, outer):
                path = "::".join(cls.scale_info_type.value.get("path", []))
                problems.append(
                    f"{p.name}'s {kind.lower()} enum {path} decodes as the outer Runtime{kind} "
                    f"(the library's `*::{kind}`); FRAME names it {path.split('::')[0]}::pallet::{kind}"
                )
    registry = substrate.metadata.portable_registry.value["types"]
    paths = {"::".join(t["type"].get("path", [])) for t in registry}
    if rc.get_decoder_class("sp_runtime::generic::digest::DigestItem") is None:
        mine = sorted(p for p in paths if p.endswith("::DigestItem")) or ["none"]
        problems.append(
            "no type at sp_runtime::generic::digest::DigestItem, which get_block decodes the "
            f"header's digest logs with (\"No decoding class found for 'DigestItem'\"); the metadata has {', '.join(mine)}"
        )
    check(not problems, "substrate-interface would misread these types:\n  " + "\n  ".join(problems))
    account = rc.get_decoder_class("AccountId")
    account_path = "::".join(account.scale_info_type.value.get("path", [])) if account else None
    if account_path != "sp_core::crypto::AccountId32":
        # Not a failure: ids still decode, as hex instead of SS58.
        print(f"note: AccountId is {account_path}, so the library shows account ids as hex, not SS58")
    ok("every pallet's call and event enum, and the header's digest items, decode with the right class")


def decode_block(substrate, block_hash):
    """The block's extrinsics (each decoded to its last byte: the library
    decodes strictly by default) and its events, with each extrinsic's
    outcome."""
    block = substrate.get_block(block_hash=block_hash)
    check(block is not None, f"no block {block_hash}")
    raw = substrate.rpc_request("chain_getBlock", [block_hash])["result"]["block"]["extrinsics"]
    exts = block["extrinsics"]
    check(len(exts) == len(raw), f"{len(exts)} extrinsics decoded, the node sent {len(raw)}")
    for i, ex in enumerate(exts):
        check(ex is not None, f"extrinsic {i} did not decode")
    events = substrate.get_events(block_hash=block_hash)
    check(isinstance(events, list), f"System.Events is {events!r}, expected a list")
    outcome = {}
    for r in events:
        e = r.value
        check(e.get("module_id") and e.get("event_id"), f"an event without module/name: {e!r}")
        i = e.get("extrinsic_idx")
        if e["phase"] == "ApplyExtrinsic":
            check(i is not None and i < len(exts), f"event {e['module_id']}.{e['event_id']} for extrinsic {i} of {len(exts)}")
            if e["module_id"] == "System" and e["event_id"] in ("ExtrinsicSuccess", "ExtrinsicFailed"):
                check(i not in outcome, f"extrinsic {i} has two outcomes")
                outcome[i] = e["event_id"]
    for i in range(len(exts)):
        check(i in outcome, f"extrinsic {i} has no ExtrinsicSuccess/ExtrinsicFailed event")
    return block["header"]["number"], exts, [r.value for r in events], outcome


def check_transfer(substrate, t):
    global step
    step = f"transfer in {t['block']}"
    number, exts, events, outcome = decode_block(substrate, t["block"])
    mine = [
        (i, ex)
        for i, ex in enumerate(exts)
        if "address" in ex.value and signer_account(substrate, ex.value["address"])[1] == t["from"]
    ]
    check(
        len(mine) == 1,
        f"{len(mine)} signed extrinsics from {t['from']} in block #{number}: "
        + "; ".join(describe(substrate, ex) for ex in exts),
    )
    i, ex = mine[0]
    v = ex.value
    kind, _ = signer_account(substrate, v["address"])
    if "signer" in t:
        check(kind == t["signer"], f"signer is by {kind}, expected by {t['signer']}")
    want_sig = SCHEME_VARIANTS[t.get("scheme", "sr25519")]
    sig = v["signature"]
    check(isinstance(sig, dict) and list(sig) == [want_sig], f"signature is {sig!r}, expected {want_sig}")
    check(isinstance(v.get("nonce"), int), f"no CheckNonce value: {sorted(v)}")
    if "nonce" in t:
        check(v["nonce"] == t["nonce"], f"nonce {v['nonce']}, expected {t['nonce']}")
    call = v["call"]
    check(call["call_module"] == "Tokens", f"call module is {call['call_module']}, expected Tokens")
    # The metadata's variant name; FRAME's convention would be `transfer`.
    check(call["call_function"].lower() == "transfer", f"call function is {call['call_function']}")
    args = call_args(call)
    check(set(args) == {"dest", "value", "dest_tag"}, f"call arguments {sorted(args)}")
    check(account_hex(substrate, args["dest"], "dest") == t["to"], f"dest {args['dest']}, expected {t['to']}")
    check(args["value"] == t["amount"], f"value {args['value']!r}, expected {t['amount']}")
    dest_tag = t.get("destTag")
    check(args["dest_tag"] == dest_tag, f"dest_tag {args['dest_tag']!r}, expected {dest_tag}")
    check(outcome.get(i) == "ExtrinsicSuccess", f"extrinsic {i}: {outcome.get(i)}")

    ev = [e for e in events if e["extrinsic_idx"] == i and e["phase"] == "ApplyExtrinsic"]
    transfers = [e for e in ev if (e["module_id"], e["event_id"]) == ("Tokens", "Transfer")]
    check(len(transfers) == 1, f"{len(transfers)} Tokens.Transfer events for extrinsic {i}")
    a = transfers[0]["attributes"]
    check(
        isinstance(a, dict)
        and a.get("asset") == "Native"
        and account_hex(substrate, a.get("from"), "Transfer.from") == t["from"]
        and account_hex(substrate, a.get("to"), "Transfer.to") == t["to"]
        and a.get("amount") == t["amount"]
        and a.get("dest_tag") == dest_tag,
        f"Tokens.Transfer is {a!r}, expected Native {t['from']} -> {t['to']} {t['amount']} tag {dest_tag}",
    )
    fees = [e for e in ev if (e["module_id"], e["event_id"]) == ("Tokens", "FeePaid")]
    check(len(fees) == 1, f"{len(fees)} Tokens.FeePaid events for extrinsic {i}")
    f = fees[0]["attributes"]
    check(
        isinstance(f, dict)
        and account_hex(substrate, f.get("who"), "FeePaid.who") == t["from"]
        and isinstance(f.get("amount"), int)
        and f["amount"] > 0
        and f.get("to_author", 0) + f.get("to_treasury", 0) + f.get("burned", 0) == f["amount"],
        f"Tokens.FeePaid is {f!r}",
    )
    ok(
        f"block #{number} extrinsic {i}: {describe(substrate, ex)}; "
        f"{call['call_module']}.{call['call_function']} {t['amount']} to {t['to']} (tag {dest_tag}); "
        f"events {', '.join(e['module_id'] + '.' + e['event_id'] for e in ev)}; fee {f['amount']}"
    )
    for k, e in enumerate(exts):
        print(f"    [{k}] {describe(substrate, e)}")


def main():
    global step
    # One stream in order when stdout and stderr go to the same file.
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger().addHandler(Collect(level=logging.WARNING))
    warnings.simplefilter("always")
    warnings.showwarning = collect_warning

    def timed_out(*_):
        fail(f"timed out after {TIMEOUT_SECS} s")

    signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(TIMEOUT_SECS)

    a = parse_args()
    step = f"connecting to {a.url}"
    from substrateinterface import SubstrateInterface

    try:
        # No type registry, preset or overrides: what any app does.
        substrate = SubstrateInterface(url=a.url)
    except Exception as e:  # the library raises plain socket and JSON errors
        fail(f"cannot connect (is the node running?): {type(e).__name__}: {e}")
    ok(f"connected to {a.url} with no qstack-specific options")

    try:
        check_runtime(substrate, a.ss58_format)
        check_no_warnings()
        check_account(substrate, a.account)
        check_no_warnings()
        check_types(substrate)
        for t in a.transfer:
            check_transfer(substrate, t)
        check_no_warnings()
    except SystemExit:
        raise
    except Exception as e:
        # A type the library cannot decode surfaces here (NotImplementedError
        # "Decoder class for … not found", RemainingScaleBytesNotEmptyException…).
        import traceback

        traceback.print_exc()
        fail(f"substrate-interface raised {type(e).__name__}: {e}")
    for _, text in python_warnings:
        print(f"note: {text}")

    step = "disconnecting"
    substrate.close()
    ok("all checks passed")


if __name__ == "__main__":
    main()
