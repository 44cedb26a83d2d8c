//! DID documents: validation, authorisation, create / update / deactivate,
//! and the per-byte deposit.

use crate::syntax::{valid_fragment, valid_uri};
use crate::{
    byte_deposit, rel, CreatedBy, Credentials, Did, DidRecord, Dids, Document, Error, Event, Inbox,
    InboxState, KeyMaterial, Op, StatusDeposits, StatusEntry, TotalDeposits, MAX_ALSO_KNOWN_AS,
    MAX_CONTROLLERS, MAX_METHODS, MAX_OPS, MAX_SERVICES, MAX_SERVICE_TYPE, ML_KEM_768_PUBLIC,
    PALLET_INDEX,
};
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use codec::Encode;
use qstack_core::{AccountId, Balance, PublicKey, Signature, H256};
use qstack_runtime_primitives::{AssetId, DispatchError};

pub(crate) fn deposit_event(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

pub(crate) fn ensure(cond: bool, e: Error) -> Result<(), Error> {
    if cond {
        Ok(())
    } else {
        Err(e)
    }
}

/// The pseudo-account holding every DID deposit: no key derives it.
pub fn deposit_account() -> AccountId {
    AccountId(qstack_io::hashing::blake2_256(b"qstack/did/deposits"))
}

/// The chain's genesis hash (binds ids and signed payloads to this chain).
pub(crate) fn genesis_hash() -> H256 {
    pallet_system::block_hash(0).unwrap_or_default()
}

/// The id of the next DID `who` creates: the first 16 bytes of
/// blake2-256("qstack/did/v1" ++ genesis hash ++ account ++ count of DIDs it
/// created, u64 LE).
pub fn next_did(who: &AccountId) -> Did {
    did_for(&genesis_hash(), who, CreatedBy::get(who).unwrap_or(0))
}

/// The id of the `n`-th DID `who` creates on the chain of `genesis`.
pub fn did_for(genesis: &H256, who: &AccountId, n: u64) -> Did {
    let mut data = Vec::with_capacity(13 + 32 + 32 + 8);
    data.extend_from_slice(b"qstack/did/v1");
    data.extend_from_slice(&genesis.0);
    data.extend_from_slice(&who.0);
    data.extend_from_slice(&n.to_le_bytes());
    let h = qstack_io::hashing::blake2_256(&data);
    let mut id = [0u8; 16];
    id.copy_from_slice(h.get(..16).unwrap_or(&[0u8; 16]));
    Did(id)
}

/// Moves `amount` into the deposit account.
pub(crate) fn charge(payer: &AccountId, amount: Balance) -> Result<(), DispatchError> {
    if amount == 0 {
        return Ok(());
    }
    let acct = deposit_account();
    if !pallet_tokens::pseudo::is_pseudo(&acct) {
        pallet_tokens::pseudo::register(&acct, &[])?;
    }
    let total = TotalDeposits::get_or_default()
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    pallet_tokens::pseudo::pay(&AssetId::Native, payer, &acct, amount)?;
    TotalDeposits::put(&total);
    Ok(())
}

/// Returns `amount` from the deposit account to `to`.
pub(crate) fn refund(to: &AccountId, amount: Balance) -> Result<(), DispatchError> {
    if amount == 0 {
        return Ok(());
    }
    let total = TotalDeposits::get_or_default()
        .checked_sub(amount)
        .ok_or(Error::Overflow)?;
    pallet_tokens::pseudo::pay(&AssetId::Native, &deposit_account(), to, amount)?;
    TotalDeposits::put(&total);
    Ok(())
}

/// The deposit for storing `bytes` bytes.
pub fn deposit_for(bytes: usize) -> Result<Balance, Error> {
    Balance::try_from(bytes)
        .ok()
        .and_then(|b| b.checked_mul(byte_deposit()))
        .ok_or(Error::Overflow)
}

/// Whether `doc` lists `who` as a method with any of `relationships`.
pub fn account_has(doc: &Document, who: &AccountId, relationships: u8) -> bool {
    doc.methods
        .iter()
        .any(|m| m.relationships & relationships != 0 && m.material == KeyMaterial::Account(*who))
}

/// The active DID `did`.
pub fn active(did: &Did) -> Result<DidRecord, Error> {
    let rec = Dids::get(did).ok_or(Error::UnknownDid)?;
    ensure(!rec.deactivated, Error::Deactivated)?;
    Ok(rec)
}

/// The active DID `did`, if `who` is one of its own methods with one of
/// `relationships` (how credentials and messages act for a DID).
pub fn acting_as(did: &Did, who: &AccountId, relationships: u8) -> Result<DidRecord, Error> {
    let rec = active(did)?;
    ensure(
        account_has(&rec.document, who, relationships),
        Error::NotAuthorized,
    )?;
    Ok(rec)
}

/// The documents whose `capabilityInvocation` methods control `did`: its
/// own when it lists no controllers, else each active controller's.
fn controlling_documents(did: &Did, rec: &DidRecord) -> Vec<(Did, Document)> {
    if rec.document.controllers.is_empty() {
        return alloc::vec![(*did, rec.document.clone())];
    }
    rec.document
        .controllers
        .iter()
        .filter_map(|c| {
            if c == did {
                return Some((*c, rec.document.clone()));
            }
            Dids::get(c)
                .filter(|r| !r.deactivated)
                .map(|r| (*c, r.document))
        })
        .collect()
}

/// A proof by a `capabilityInvocation` key (for a DID changed by a key
/// rather than by the signing account): which controlling DID's method,
/// and its signature of [`update_payload`].
#[derive(
    Clone,
    PartialEq,
    Eq,
    Debug,
    Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    scale_info::TypeInfo,
)]
pub struct KeyProof {
    /// The DID whose method signed (the DID itself or one of its
    /// controllers).
    pub controller: Did,
    /// The method's fragment.
    pub method: Vec<u8>,
    /// The signature.
    pub signature: Signature,
}

/// What a `capabilityInvocation` key signs to update (`ops`) or deactivate
/// (`ops` = `None`) a DID at `counter`.
pub fn update_payload(genesis: &H256, did: &Did, counter: u64, ops: Option<&[Op]>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"qstack/did/update/v1");
    genesis.encode_to(&mut out);
    did.encode_to(&mut out);
    counter.encode_to(&mut out);
    ops.encode_to(&mut out);
    out
}

/// Refuses unless `who` (or `proof`) may change `did`.
fn authorize(
    did: &Did,
    rec: &DidRecord,
    who: &AccountId,
    proof: Option<&KeyProof>,
    payload: impl FnOnce() -> Vec<u8>,
) -> Result<(), Error> {
    let docs = controlling_documents(did, rec);
    match proof {
        None => ensure(
            docs.iter()
                .any(|(_, d)| account_has(d, who, rel::CAPABILITY_INVOCATION)),
            Error::NotAuthorized,
        ),
        Some(p) => {
            let (_, doc) = docs
                .iter()
                .find(|(c, _)| *c == p.controller)
                .ok_or(Error::NotAuthorized)?;
            let m = doc
                .methods
                .iter()
                .find(|m| m.id == p.method && m.relationships & rel::CAPABILITY_INVOCATION != 0)
                .ok_or(Error::NotAuthorized)?;
            let KeyMaterial::Key(pk) = &m.material else {
                return Err(Error::NotAuthorized);
            };
            ensure(verify(&p.signature, &payload(), pk), Error::BadProof)
        }
    }
}

pub(crate) fn verify(sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
    qstack_io::crypto::verify(sig, msg, pk)
}

/// Checks a document's every bound and rule before it is stored: its
/// controllers must be active DIDs. `this` is the DID it belongs to (a DID
/// may list itself as a controller).
pub fn validate(this: &Did, doc: &Document) -> Result<(), Error> {
    for c in &doc.controllers {
        if c != this {
            let r = Dids::get(c).ok_or(Error::BadController)?;
            ensure(!r.deactivated, Error::BadController)?;
        }
    }
    validate_stored(this, doc)
}

/// The rules a stored document keeps for good: a controller deactivated
/// later stays listed (and no longer controls), so only its existence is
/// checked.
fn validate_stored(this: &Did, doc: &Document) -> Result<(), Error> {
    ensure(
        doc.controllers.len() <= MAX_CONTROLLERS as usize,
        Error::TooMany,
    )?;
    ensure(doc.methods.len() <= MAX_METHODS as usize, Error::TooMany)?;
    ensure(doc.services.len() <= MAX_SERVICES as usize, Error::TooMany)?;
    ensure(
        doc.also_known_as.len() <= MAX_ALSO_KNOWN_AS as usize,
        Error::TooMany,
    )?;
    let mut seen = BTreeSet::new();
    for c in &doc.controllers {
        ensure(seen.insert(*c), Error::BadController)?;
        ensure(c == this || Dids::contains_key(c), Error::BadController)?;
    }
    let mut ids = BTreeSet::new();
    for m in &doc.methods {
        ensure(valid_fragment(&m.id), Error::BadFragment)?;
        ensure(ids.insert(m.id.as_slice()), Error::DuplicateId)?;
        check_material(&m.material, m.relationships)?;
    }
    for s in &doc.services {
        ensure(valid_fragment(&s.id), Error::BadFragment)?;
        ensure(ids.insert(s.id.as_slice()), Error::DuplicateId)?;
        let t = &s.service_type;
        ensure(
            !t.is_empty()
                && t.len() <= MAX_SERVICE_TYPE as usize
                && t.iter().all(|b| b.is_ascii_graphic()),
            Error::BadUri,
        )?;
        ensure(valid_uri(&s.endpoint), Error::BadUri)?;
    }
    let mut uris = BTreeSet::new();
    for u in &doc.also_known_as {
        ensure(valid_uri(u), Error::BadUri)?;
        ensure(uris.insert(u.as_slice()), Error::DuplicateId)?;
    }
    let self_controlled = doc.controllers.is_empty() || doc.controllers.contains(this);
    let own_invocation = doc
        .methods
        .iter()
        .any(|m| m.relationships & rel::CAPABILITY_INVOCATION != 0);
    ensure(
        !doc.controllers.is_empty() && doc.controllers.iter().any(|c| c != this)
            || self_controlled && own_invocation,
        Error::Uncontrollable,
    )
}

fn check_material(material: &KeyMaterial, relationships: u8) -> Result<(), Error> {
    ensure(
        relationships != 0 && relationships & !rel::ALL == 0,
        Error::BadRelationships,
    )?;
    match material {
        KeyMaterial::MlKem768(k) => {
            ensure(k.len() == ML_KEM_768_PUBLIC, Error::BadKey)?;
            ensure(relationships == rel::KEY_AGREEMENT, Error::BadRelationships)
        }
        KeyMaterial::Key(_) | KeyMaterial::Account(_) => ensure(
            relationships & rel::KEY_AGREEMENT == 0,
            Error::BadRelationships,
        ),
    }
}

/// Stores `next` for `did` with `payer` as its depositor, charging the
/// deposit of its bytes and refunding `old`'s (netted when the depositor
/// stays). Charges before it refunds or writes, so a payer who cannot pay
/// changes nothing.
fn store(
    did: &Did,
    old: Option<&DidRecord>,
    mut next: DidRecord,
    payer: &AccountId,
) -> Result<Balance, DispatchError> {
    next.depositor = *payer;
    next.deposit = 0;
    let deposit = deposit_for(next.encoded_size())?;
    next.deposit = deposit;
    match old {
        Some(old) if old.depositor == *payer => {
            if deposit >= old.deposit {
                charge(payer, deposit.saturating_sub(old.deposit))?;
            } else {
                refund(payer, old.deposit.saturating_sub(deposit))?;
            }
        }
        _ => {
            charge(payer, deposit)?;
            pallet_system::owned::acquire(payer, 1);
            if let Some(old) = old {
                release(old)?;
            }
        }
    }
    Dids::insert(did, &next);
    Ok(deposit)
}

/// Returns `rec`'s deposit and owner reserve to its depositor.
fn release(rec: &DidRecord) -> Result<Balance, DispatchError> {
    refund(&rec.depositor, rec.deposit)?;
    pallet_system::owned::release(&rec.depositor, 1);
    Ok(rec.deposit)
}

/// Creates a DID for `who` with `document`.
pub fn create(who: &AccountId, document: Document) -> Result<Did, DispatchError> {
    let did = next_did(who);
    ensure(!Dids::contains_key(&did), Error::DuplicateId)?;
    validate(&did, &document)?;
    let count = CreatedBy::get(who)
        .unwrap_or(0)
        .checked_add(1)
        .ok_or(Error::Overflow)?;
    let now = pallet_system::block_number();
    let rec = DidRecord {
        document,
        counter: 0,
        created: now,
        updated: now,
        deactivated: false,
        depositor: *who,
        deposit: 0,
    };
    let deposit = store(&did, None, rec, who)?;
    CreatedBy::insert(who, &count);
    deposit_event(Event::Created {
        did,
        depositor: *who,
        deposit,
    });
    Ok(did)
}

fn position<T>(items: &[T], id: &[u8], key: impl Fn(&T) -> &[u8]) -> Result<usize, Error> {
    items
        .iter()
        .position(|x| key(x) == id)
        .ok_or(Error::UnknownId)
}

/// Applies one operation to a document (validation of the result follows).
fn apply(doc: &mut Document, op: Op) -> Result<(), Error> {
    match op {
        Op::AddMethod(m) => {
            ensure(doc.methods.len() < MAX_METHODS as usize, Error::TooMany)?;
            doc.methods.push(m);
        }
        Op::RemoveMethod(id) => {
            let i = position(&doc.methods, &id, |m| &m.id)?;
            doc.methods.remove(i);
        }
        Op::RotateKey { id, material } => {
            let i = position(&doc.methods, &id, |m| &m.id)?;
            let m = doc.methods.get_mut(i).ok_or(Error::UnknownId)?;
            m.material = material;
        }
        Op::SetRelationships { id, relationships } => {
            let i = position(&doc.methods, &id, |m| &m.id)?;
            let m = doc.methods.get_mut(i).ok_or(Error::UnknownId)?;
            m.relationships = relationships;
        }
        Op::AddService(s) => {
            ensure(doc.services.len() < MAX_SERVICES as usize, Error::TooMany)?;
            doc.services.push(s);
        }
        Op::RemoveService(id) => {
            let i = position(&doc.services, &id, |s| &s.id)?;
            doc.services.remove(i);
        }
        Op::SetControllers(c) => doc.controllers = c,
        Op::SetAlsoKnownAs(a) => doc.also_known_as = a,
    }
    Ok(())
}

/// Applies `ops` to `did`, authorised by `who` or by `proof`.
pub fn update(
    who: &AccountId,
    did: &Did,
    counter: u64,
    ops: Vec<Op>,
    proof: Option<KeyProof>,
) -> Result<(), DispatchError> {
    let rec = active(did)?;
    ensure(counter == rec.counter, Error::StaleCounter)?;
    ensure(
        !ops.is_empty() && ops.len() <= MAX_OPS as usize,
        Error::TooMany,
    )?;
    authorize(did, &rec, who, proof.as_ref(), || {
        update_payload(&genesis_hash(), did, counter, Some(&ops))
    })?;
    let mut next = rec.clone();
    for op in ops {
        apply(&mut next.document, op)?;
    }
    validate(did, &next.document)?;
    next.counter = counter.checked_add(1).ok_or(Error::Overflow)?;
    next.updated = pallet_system::block_number();
    let deposit = store(did, Some(&rec), next.clone(), who)?;
    deposit_event(Event::Updated {
        did: *did,
        counter: next.counter,
        deposit,
    });
    Ok(())
}

/// Deactivates `did` for good, authorised by `who` or by `proof`.
pub fn deactivate(
    who: &AccountId,
    did: &Did,
    counter: u64,
    proof: Option<KeyProof>,
) -> Result<(), DispatchError> {
    let rec = active(did)?;
    ensure(counter == rec.counter, Error::StaleCounter)?;
    authorize(did, &rec, who, proof.as_ref(), || {
        update_payload(&genesis_hash(), did, counter, None)
    })?;
    let refund = release(&rec)?;
    let tomb = DidRecord {
        document: Document::default(),
        counter: counter.checked_add(1).ok_or(Error::Overflow)?,
        created: rec.created,
        updated: pallet_system::block_number(),
        deactivated: true,
        depositor: rec.depositor,
        deposit: 0,
    };
    Dids::insert(did, &tomb);
    deposit_event(Event::Deactivated { did: *did, refund });
    Ok(())
}

/// Invariants: every active document is valid, deactivated ones are empty
/// tombstones, deposits add up to what the deposit account holds, inboxes
/// and status entries agree with what they index.
pub(crate) fn try_state() -> Result<(), &'static str> {
    let mut sum: Balance = StatusDeposits::get_or_default();
    for (did, rec) in Dids::iter() {
        if rec.deactivated {
            if rec.document != Document::default() || rec.deposit != 0 {
                return Err("a deactivated DID keeps a document or a deposit");
            }
            continue;
        }
        if validate_stored(&did, &rec.document).is_err() {
            return Err("a stored DID document is invalid");
        }
        sum = sum
            .checked_add(rec.deposit)
            .ok_or("deposit sum overflows")?;
    }
    for (hash, c) in Credentials::iter() {
        sum = sum.checked_add(c.deposit).ok_or("deposit sum overflows")?;
        if let Some(s) = c.registration.status {
            let lead = c
                .registration
                .issuers
                .first()
                .ok_or("a credential without issuers")?;
            if StatusEntry::get(&(*lead, s.list), &s.index) != Some(hash) {
                return Err("a credential's status entry points elsewhere");
            }
        }
    }
    for ((lead, list), index, hash) in StatusEntry::iter() {
        let c = Credentials::get(&hash).ok_or("a status entry of no credential")?;
        if c.registration.issuers.first() != Some(&lead)
            || c.registration.status != Some(crate::StatusRef { list, index })
        {
            return Err("a status entry disagrees with its credential");
        }
    }
    let mut counts = alloc::collections::BTreeMap::<Did, u32>::new();
    for (to, seq, m) in Inbox::iter() {
        sum = sum.checked_add(m.deposit).ok_or("deposit sum overflows")?;
        let (_, next) = InboxState::get(&to).unwrap_or_default();
        if seq >= next {
            return Err("a message numbered past its inbox's counter");
        }
        let e = counts.entry(to).or_insert(0);
        *e = e.saturating_add(1);
    }
    for (to, (waiting, _)) in InboxState::iter() {
        if counts.get(&to).copied().unwrap_or(0) != waiting {
            return Err("an inbox's count differs from its messages");
        }
    }
    if sum != TotalDeposits::get_or_default() {
        return Err("recorded deposits differ from their total");
    }
    if pallet_tokens::free_balance(&deposit_account()) != sum {
        return Err("the deposit account's balance differs from the deposits");
    }
    Ok(())
}
