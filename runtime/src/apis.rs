//! Runtime API entry points: each takes and returns SCALE bytes, named
//! `<Api>_<method>` as in Substrate so `state_call` from generic clients works.
//! Each method is declared once below; that declaration is the Wasm export,
//! [`dispatch`] (which Wasm and native calls both go through), [`API_IDS`],
//! the V15 description ([`api_metadata`]) and the typed native caller
//! ([`client`]) the node's RPC uses.

use crate::executive::{self, BlockError};
use crate::{
    accounts, amm, did, genesis, governance, metadata, staking, system, tokens, Extrinsic, VERSION,
};
use alloc::string::String;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use qstack_core::{AccountId, Balance, Nonce, PublicKey, H256};
use qstack_runtime_primitives::tokens::{TokenBalance, TokenDetails};
use qstack_runtime_primitives::{
    AccountSettings, ApplyExtrinsicResult, AssetId, DispatchError, Header, OpaqueBlock,
    OpaqueExtrinsic, RuntimeVersion, TokenCode, TransactionSource, TransactionValidity,
};
use qstack_support::InherentData;
use scale_info::TypeInfo;

/// Substrate's `Weight` (two compact dimensions).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct Weight {
    /// Execution time (ps).
    #[codec(compact)]
    pub ref_time: u64,
    /// Proof size (bytes); unused by qstack.
    #[codec(compact)]
    pub proof_size: u64,
}

/// Substrate's `RuntimeDispatchInfo` (answer of `TransactionPaymentApi_query_info`).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct RuntimeDispatchInfo {
    /// Weight.
    pub weight: Weight,
    /// Dispatch class (0 = normal).
    pub class: u8,
    /// Fee without tip.
    pub partial_fee: Balance,
}

/// Substrate's `InclusionFee`: the fee's parts before the tip.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct InclusionFee {
    /// The fee every extrinsic pays.
    pub base_fee: Balance,
    /// The fee for its length.
    pub len_fee: Balance,
    /// The fee for its weight (qstack has no fee multiplier).
    pub adjusted_weight_fee: Balance,
}

/// Substrate's `FeeDetails` (answer of `TransactionPaymentApi_query_fee_details`).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct FeeDetails {
    /// The inclusion fee; `None` for an unsigned extrinsic.
    pub inclusion_fee: Option<InclusionFee>,
    /// The tip.
    pub tip: Balance,
}

/// Everything a wallet needs about an account (`QstackAccountApi_account_info`,
/// version 3: v1 had the first three fields only, v2 no reserve).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct AccountView {
    /// Next nonce.
    pub nonce: Nonce,
    /// Free balance.
    pub free: Balance,
    /// Registered master key, if the account has sent a transaction.
    pub key: Option<PublicKey>,
    /// Keys, signer list, tickets and deposit rules (accounts pallet).
    pub settings: AccountSettings,
    /// Objects the account pays an owner reserve for.
    pub owned: u32,
    /// The part of `free` it cannot send away: the account reserve plus
    /// the owner reserve of each object (fees may still use the latter).
    pub reserve: Balance,
}

pub use qstack_support::apis::{ApiError, RawBytes};

/// A transaction as `TaggedTransactionQueue_validate_transaction` takes it:
/// opaque bytes, decoded when validated (so malformed bytes get their own
/// error), encoded exactly as this runtime's [`Extrinsic`] and described as
/// it in metadata. FRAME describes the argument so, and V15 metadata has no
/// other place for the extrinsic type: it is how generic clients (polkadot.js)
/// find `UncheckedExtrinsic` and its `Call`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct TransactionBytes(pub OpaqueExtrinsic);

impl TypeInfo for TransactionBytes {
    type Identity = Extrinsic;
    fn type_info() -> scale_info::Type {
        <Extrinsic as TypeInfo>::type_info()
    }
}

qstack_support::runtime_apis! { export = crate::wasm::call;
    /// The runtime's version and block execution.
    Core: 5 {
        /// The runtime's version.
        node fn version() -> RuntimeVersion => VERSION;
        /// Starts a block.
        node fn initialize_block(header: Header) -> () => executive::initialize_block(&header);
        /// Executes a whole block and checks its roots (the import path).
        /// Opaque: each extrinsic is decoded once, when it is applied.
        node fn execute_block(block: OpaqueBlock) -> Result<(), BlockError>
            => executive::execute_block(&block);
    }
    /// The runtime's metadata.
    Metadata: 2 {
        /// Metadata V14 (`OpaqueMetadata`).
        node fn metadata() -> Vec<u8> => metadata::metadata_prefixed(14).unwrap_or_default();
        /// Metadata in format `version`, if served.
        client fn metadata_at_version(version: u32) -> Option<Vec<u8>>
            => metadata::metadata_prefixed(version);
        /// The metadata formats served.
        client fn metadata_versions() -> Vec<u32> => metadata::VERSIONS.to_vec();
    }
    /// Building blocks.
    BlockBuilder: 6 {
        /// Applies one extrinsic (the argument is its own encoding, length
        /// prefix included).
        node fn apply_extrinsic(xt: RawBytes) -> ApplyExtrinsicResult
            => executive::apply_extrinsic(&xt.0);
        /// Ends the block and returns its header.
        node fn finalize_block() -> Result<Header, BlockError> => executive::finalize_block();
        /// The inherents of a new block from the author's data.
        node fn inherent_extrinsics(data: InherentData) -> Vec<Extrinsic>
            => executive::inherent_extrinsics(&data);
    }
    /// Pool validation.
    TaggedTransactionQueue: 3 {
        /// Validates a transaction against the state of `at` (the best block).
        client fn validate_transaction(source: TransactionSource, xt: TransactionBytes, at: H256)
            -> TransactionValidity => executive::validate_transaction(source, &xt.0 .0, at);
    }
    /// Account nonces.
    AccountNonceApi: 1 {
        /// The account's next nonce (transactions in the pool not counted).
        client fn account_nonce(account: AccountId) -> Nonce => system::account_nonce(&account);
    }
    /// Fees.
    TransactionPaymentApi: 4 {
        /// Weight, class and partial fee of an extrinsic of `len` bytes.
        node fn query_info(xt: OpaqueExtrinsic, len: u32) -> RuntimeDispatchInfo => {
            let (weight, class, partial_fee) = executive::query_info(&xt.0, len);
            RuntimeDispatchInfo {
                weight: Weight {
                    ref_time: weight,
                    proof_size: 0,
                },
                class,
                partial_fee,
            }
        };
        /// The fee's parts: base, length and weight fee (none for an
        /// unsigned extrinsic), and the tip.
        node fn query_fee_details(xt: OpaqueExtrinsic, len: u32) -> FeeDetails => {
            let (parts, tip) = executive::query_fee_details(&xt.0, len);
            FeeDetails {
                inclusion_fee: parts.map(|(base_fee, len_fee, adjusted_weight_fee)| InclusionFee {
                    base_fee,
                    len_fee,
                    adjusted_weight_fee,
                }),
                tip,
            }
        };
    }
    /// Genesis configuration presets.
    GenesisBuilder: 1 {
        /// Writes the genesis state from a JSON patch.
        node fn build_state(json: Vec<u8>) -> Result<(), String> => genesis::build_state(&json);
        /// The JSON of a named preset (`None` = the default).
        node fn get_preset(id: Option<String>) -> Option<Vec<u8>> => genesis::preset(id.as_deref());
        /// Names of the built-in genesis presets.
        client fn preset_names() -> Vec<String>
            => genesis::PRESETS.iter().map(|s| String::from(*s)).collect();
    }
    /// Everything a wallet needs about an account.
    QstackAccountApi: 3 {
        /// Nonce, native balance, master key and account settings.
        client fn account_info(account: AccountId) -> AccountView => AccountView {
            nonce: system::account_nonce(&account),
            free: tokens::free_balance(&account),
            key: system::account_key(&account),
            settings: accounts::settings(&account),
            owned: system::owned::owner_count(&account),
            reserve: if tokens::free_balance(&account) == 0 {
                0
            } else {
                tokens::required_reserve(&account)
            },
        };
    }
    /// Issued tokens and balances.
    QstackTokensApi: 1 {
        /// A token's details, if issued.
        client fn token_info(issuer: AccountId, code: TokenCode) -> Option<TokenDetails>
            => tokens::token(&issuer, &code);
        /// The native balance, then every token the account holds.
        client fn token_balances(account: AccountId) -> Vec<TokenBalance>
            => tokens::balances_of(&account);
        /// What `spender` may still move of `owner`'s `asset`.
        client fn token_allowance(asset: AssetId, owner: AccountId, spender: AccountId) -> Balance
            => tokens::allowance(&asset, &owner, &spender);
    }
    /// What the node's consensus engine runs with (DESIGN §2).
    Consensus: 1 {
        /// The engine's configuration in this block's state, engine-defined
        /// SCALE (the BFT validator set: `Vec<{public, power}>` in index
        /// order, the staking pallet's active set), or `None` on a chain
        /// that keeps none (dev). The node hands a change to its engine, in
        /// force two blocks later.
        node fn config() -> Option<Vec<u8>> => staking::consensus_config();
    }
    /// AMM pools and swap quotes.
    AmmApi: 1 {
        /// The pool of two assets (in either order), if it exists.
        client fn amm_pool(a: AssetId, b: AssetId) -> Option<pallet_amm::PoolInfo>
            => amm::pool_info(a, b);
        /// Every pool.
        client fn amm_pools() -> Vec<pallet_amm::PoolInfo> => amm::pools();
        /// What a swap along `path` would do now, exactly as the call
        /// computes it: for `exact_in`, the output of selling `amount`;
        /// otherwise the input that buys `amount`. `who` pays its own fee
        /// (the auction slot holder's is lower).
        client fn amm_quote(path: Vec<AssetId>, amount: Balance, exact_in: bool, who: Option<AccountId>)
            -> Result<Balance, DispatchError> => amm::quote(&path, amount, exact_in, who);
    }
    /// DIDs, credentials and messages (the `did_*` and `vc_*` RPC read them).
    DidApi: 1 {
        /// A DID's record (document and metadata), deactivated ones included.
        client fn did_record(did: did::Did) -> Option<did::DidRecord> => did::Dids::get(&did);
        /// The DID `who` would create next.
        client fn did_next(who: AccountId) -> did::Did => did::document::next_did(&who);
        /// A credential and its status.
        client fn did_credential(hash: H256) -> Option<(did::Credential, did::CredentialStatus)>
            => did::credential::status(&hash);
        /// The messages waiting in a DID's inbox.
        client fn did_inbox(to: did::Did) -> Vec<(u64, did::Message)> => did::message::inbox(&to);
        /// A whole status list's bits (131,072, least significant first).
        client fn did_status_list(lead: did::Did, list: u32, purpose: did::Purpose) -> Vec<u8>
            => did::credential::status_list(&lead, list, purpose);
    }
    /// Validators, delegations, inflation and rewards (the `staking_*` RPC).
    StakingApi: 1 {
        /// Every validator (any status), by owner.
        client fn staking_validators() -> Vec<(AccountId, staking::ValidatorInfo)>
            => staking::Validators::iter();
        /// One validator.
        client fn staking_validator(owner: AccountId) -> Option<staking::ValidatorInfo>
            => staking::Validators::get(&owner);
        /// The active set (index order).
        client fn staking_set() -> Vec<staking::SetMember> => staking::CurrentSet::get().unwrap_or_default();
        /// `who`'s delegations: (validator, delegation, tokens it is worth,
        /// rewards pending), then its unbondings (validator, entry).
        client fn staking_delegations(who: AccountId) -> staking::api::DelegationsView
            => staking::api::delegations_of(&who);
        /// The parameters, phases, the phase in force, the minted total and
        /// what the next block would mint.
        client fn staking_inflation() -> staking::api::InflationView => staking::api::inflation();
    }
    /// Notarised document hashes.
    NotaryApi: 1 {
        /// Who registered `hash`, and at which block, if anyone did.
        client fn note(hash: H256) -> Option<pallet_notary::Note> => pallet_notary::note(&hash);
    }
    /// Proposals, votes and tallies (the `gov_*` RPC).
    GovernanceApi: 1 {
        /// Every kept proposal (live, and the last ended ones), by id.
        client fn gov_proposals() -> Vec<governance::api::ProposalView>
            => governance::api::proposals();
        /// One proposal.
        client fn gov_proposal(id: u64) -> Option<governance::Proposal>
            => governance::api::proposal(id);
        /// A proposal's tally: live while it is voted on, final after.
        client fn gov_tally(id: u64) -> Option<governance::api::TallyView>
            => governance::api::tally(id);
        /// The votes on a proposal under voting, by voter.
        client fn gov_votes(id: u64) -> Vec<(AccountId, governance::VoteOption)>
            => governance::api::votes(id);
        /// The parameters of every level.
        client fn gov_params() -> governance::Params => governance::params();
    }
    /// What a runtime upgrade would do, before anyone votes for it (`qstack
    /// try-upgrade`): run on a copy of a live chain's state with the new
    /// code, never on a chain.
    TryRuntime: 1 {
        /// Runs every pending storage migration to its end (at most
        /// `max_steps` blocks' worth of steps) and then every pallet's
        /// invariants.
        client fn try_upgrade(max_steps: u32) -> TryUpgradeReport => try_upgrade(max_steps);
    }
}

/// What [`try_upgrade`] found.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct TryUpgradeReport {
    /// The spec_version whose migrations ran.
    pub spec_version: u32,
    /// Migration steps (one per block on a chain).
    pub steps: u32,
    /// Weight of every step, in order.
    pub step_weights: Vec<u64>,
    /// Whether every migration finished within the steps allowed.
    pub finished: bool,
    /// The first invariant that failed after the migrations, if any.
    pub invariant_failure: Option<String>,
}

/// Runs the migrations this code has pending on the state it is given, as
/// the first blocks after an upgrade would, then the invariants.
fn try_upgrade(max_steps: u32) -> TryUpgradeReport {
    let mut report = TryUpgradeReport {
        spec_version: VERSION.spec_version,
        steps: 0,
        step_weights: Vec::new(),
        finished: false,
        invariant_failure: None,
    };
    while report.steps < max_steps {
        let (weight, more) = crate::AllPallets::on_runtime_upgrade();
        report.steps = report.steps.saturating_add(1);
        report.step_weights.push(weight);
        if !more {
            report.finished = true;
            break;
        }
    }
    system::LastRuntimeUpgrade::put(&system::LastRuntimeUpgradeInfo {
        spec_version: VERSION.spec_version,
        spec_name: String::from(VERSION.spec_name.as_ref()),
    });
    report.invariant_failure = crate::try_state().err().map(String::from);
    report
}
