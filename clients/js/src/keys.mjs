// qstack's key code in JavaScript: the node's own Rust (qstack-core) built
// as WebAssembly (clients/js/keys), so a key, signature or address made
// here is byte for byte what the node and the `qstack` CLI make.

/** The key schemes, by the names the node and the CLI use. */
export const SCHEMES = ['sr25519', 'falcon512', 'mldsa44', 'hybrid'];

/** Bytes as 0x-hex. */
export function toHex(bytes) {
  if (typeof bytes === 'string') {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(bytes)) throw new Error(`not 0x-hex: ${bytes.slice(0, 20)}`);
    return bytes.toLowerCase();
  }
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** 0x-hex as bytes. */
export function fromHex(hex) {
  const h = toHex(hex).slice(2);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Loads the key module. `source`: the module's bytes (a browser fetches
 * them: `new Uint8Array(await (await fetch(url)).arrayBuffer())`), or, in
 * Node.js, a path or file URL to it; by default `$QSTACK_KEYS_WASM`, else
 * `dist/qstack_keys.wasm` of this package (`npm run build` writes it).
 */
export async function loadKeys(source) {
  const env = globalThis.process?.env?.QSTACK_KEYS_WASM;
  let bytes = source ?? env ?? new URL('../dist/qstack_keys.wasm', import.meta.url);
  if (typeof bytes === 'string' || bytes instanceof URL) {
    // Node.js only, and only for a path: browsers pass the bytes.
    const { readFile } = await import('node:fs/promises');
    const path = bytes;
    bytes = await readFile(path).catch((e) => {
      throw new Error(`cannot read the key module ${path} (run \`npm run build\` in clients/js): ${e.message}`);
    });
  }
  let memory = null;
  const { instance } = await WebAssembly.instantiate(bytes, {
    qstack: {
      // Host randomness: new phrases and the fresh half of hedged signing.
      random: (ptr, len) => {
        for (let at = 0; at < len; at += 65536) {
          globalThis.crypto.getRandomValues(new Uint8Array(memory.buffer, ptr + at, Math.min(65536, len - at)));
        }
      },
    },
  });
  memory = instance.exports.memory;
  return new Keys(instance.exports, () => memory);
}

/** A key: public parts here, the secret inside the module. */
export class Key {
  constructor(keys, info) {
    this.keys = keys;
    /** The module's handle of the secret key. */
    this.handle = info.handle;
    /** `sr25519`, `falcon512`, `mldsa44` or `hybrid`. */
    this.scheme = info.scheme;
    /** SCALE encoding of qstack's multi-scheme PublicKey, 0x-hex. */
    this.publicKey = info.publicKey;
    /** The account the key controls as master key (a hash of the key). */
    this.accountId = info.accountId;
    /** The account's `q…` address. */
    this.address = info.address;
    /** The BIP-39 phrase, for a key made by `generate`. */
    if (info.phrase) this.phrase = info.phrase;
  }

  /** Signs `message` (bytes or 0x-hex): SCALE Signature, 0x-hex. */
  sign(message) {
    return this.keys.call('sign', { handle: this.handle, message: toHex(message) }).signature;
  }

  /** The account's SS58 address under `prefix`. */
  ss58(prefix) {
    return this.keys.call('address', { accountId: this.accountId, ss58Prefix: prefix }).ss58;
  }

  /** Drops the secret key from the module. */
  forget() {
    this.keys.call('forget', { handle: this.handle });
  }
}

/** The key module's operations. */
export class Keys {
  constructor(exports, memory) {
    this.exports = exports;
    this.memory = memory;
    this.encoder = new TextEncoder();
    this.decoder = new TextDecoder();
  }

  /** Runs one op of the module (see clients/js/keys/src/lib.rs). */
  call(op, input) {
    const e = this.exports;
    const put = (text) => {
      const bytes = this.encoder.encode(text);
      const ptr = e.qstack_alloc(bytes.length);
      new Uint8Array(this.memory().buffer, ptr, bytes.length).set(bytes);
      return [ptr, bytes.length];
    };
    const [opPtr, opLen] = put(op);
    const [inPtr, inLen] = put(JSON.stringify(input));
    const status = e.qstack_call(opPtr, opLen, inPtr, inLen);
    e.qstack_free(opPtr, opLen);
    e.qstack_free(inPtr, inLen);
    const out = this.decoder.decode(
      new Uint8Array(this.memory().buffer, e.qstack_result_ptr(), e.qstack_result_len()).slice(),
    );
    if (status !== 0) throw new Error(out);
    return JSON.parse(out);
  }

  /** The key of `scheme` for a secret URI (`//Alice`, `<phrase>//hard`, `0x<seed>`). */
  pair(scheme, suri) {
    return new Key(this, this.call('pair', { scheme, suri }));
  }

  /** A new key of `scheme` from a new phrase of `words` words (`key.phrase`). */
  generate(scheme, words = 12) {
    return new Key(this, this.call('generate', { scheme, words }));
  }

  /** Whether `signature` (SCALE Signature) is `publicKey`'s (SCALE PublicKey) over `message`. */
  verify(publicKey, message, signature) {
    return this.call('verify', { publicKey: toHex(publicKey), message: toHex(message), signature: toHex(signature) }).valid;
  }

  /** The account id (0x-hex) a key (SCALE PublicKey) controls. */
  accountIdOf(publicKey) {
    return this.call('address', { publicKey: toHex(publicKey) }).accountId;
  }

  /** The `q…` address of an account id. */
  encodeAddress(accountId) {
    return this.call('address', { accountId: toHex(accountId) }).address;
  }

  /** The SS58 address of an account id under `prefix`. */
  encodeSs58(accountId, prefix) {
    return this.call('address', { accountId: toHex(accountId), ss58Prefix: prefix }).ss58;
  }

  /**
   * The account id (0x-hex) of a `q…` address, or of an SS58 address of
   * the chain's `ss58Prefix`. Throws a clear error on a bad character, a
   * checksum error, or another chain's prefix.
   */
  decodeAddress(address, ss58Prefix) {
    return this.call('parseAddress', { address, ss58Prefix }).accountId;
  }

  /** blake2b-256 of `data`, 0x-hex. */
  blake2_256(data) {
    return this.call('blake2_256', { data: toHex(data) }).hash;
  }

  /**
   * A Key for a polkadot.js sr25519 KeyringPair (`@polkadot/keyring`):
   * qstack's sr25519 is Substrate's (same derivation, `substrate` signing
   * context), so the keyring's own signatures are valid; only the account
   * differs (qstack's account is a hash of the key).
   */
  fromKeyringPair(pair) {
    if (pair.type !== 'sr25519') throw new Error(`only sr25519 keyring pairs are qstack keys, not ${pair.type}`);
    const publicKey = '0x00' + toHex(pair.publicKey).slice(2);
    const accountId = this.accountIdOf(publicKey);
    const key = new Key(this, { handle: null, scheme: 'sr25519', publicKey, accountId, address: this.encodeAddress(accountId) });
    key.sign = (message) => '0x00' + toHex(pair.sign(fromHex(toHex(message)))).slice(2);
    key.forget = () => {};
    return key;
  }
}
