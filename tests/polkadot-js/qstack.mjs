// @polkadot/api options for qstack chains: the little a client needs beyond
// the chain's metadata. README.md says why each entry is needed.
//
//   import { qstackApiOptions } from './qstack.mjs';
//   const api = await ApiPromise.create({ provider, ...qstackApiOptions });

import { U8aFixed } from '@polkadot/types-codec';

/** ML-DSA-44 signature bytes (qstack_core::MLDSA_SIGNATURE_LEN). */
const MLDSA44_SIGNATURE_LEN = 2420;

export const qstackTypes = {
  // qstack's address is `Id(AccountId) | Key(PublicKey)`, not Substrate's
  // MultiAddress; polkadot.js would otherwise assume a bare AccountId32. The
  // name is the one polkadot.js gives the metadata's `addressType`.
  Address: 'QstackRuntimePrimitivesExtrinsicMultiAddress',
  // polkadot.js refuses fixed arrays longer than 2048, so the metadata's
  // `[u8; 2420]` cannot be used as is: the signature enum is spelled out,
  // with the same variants and encoding as qstack_core::Signature.
  QstackMlDsa44Signature: U8aFixed.with(MLDSA44_SIGNATURE_LEN * 8, 'QstackMlDsa44Signature'),
  // qstack_core::Signature.
  QstackSignature: {
    _enum: {
      Sr25519: '[u8; 64]',
      Falcon512: '[u8; 666]',
      MlDsa44: 'QstackMlDsa44Signature',
      Hybrid: '([u8; 666], QstackMlDsa44Signature)',
    },
  },
  // One signer of a multi-signature: its account and which key signed, or
  // its master key inline (qstack_runtime_primitives::SignerKey).
  QstackSignerKey: {
    _enum: {
      Master: 'AccountId32',
      Regular: 'AccountId32',
      Key: 'QstackCoreCryptoPublicKey',
    },
  },
  QstackSignerSignature: { signer: 'QstackSignerKey', signature: 'QstackSignature' },
  // qstack_runtime_primitives::ExtrinsicSignature: a master-key signature
  // (indices 0-3, exactly qstack_core::Signature), the signer list's
  // signatures (4), or a regular-key signature (5).
  ExtrinsicSignature: {
    _enum: {
      Sr25519: '[u8; 64]',
      Falcon512: '[u8; 666]',
      MlDsa44: 'QstackMlDsa44Signature',
      Hybrid: '([u8; 666], QstackMlDsa44Signature)',
      Multi: 'Vec<QstackSignerSignature>',
      Regular: 'QstackSignature',
    },
  },
};

export const qstackSignedExtensions = {
  // First four bytes of the genesis hash, carried in the extrinsic; nothing
  // extra in the signed payload (the full genesis hash is, via CheckGenesis).
  CheckGenesisTag: { extrinsic: { genesisTag: '[u8; 4]' }, payload: {} },
  // A ticket spent instead of the nonce (then the nonce is 0); None otherwise.
  CheckTicket: { extrinsic: { ticket: 'Option<u32>' }, payload: {} },
};

export const qstackApiOptions = {
  types: qstackTypes,
  signedExtensions: qstackSignedExtensions,
};
