//! A pallet's description for the runtime's metadata, built from its
//! [`Pallet`](crate::Pallet) implementation; the runtime turns it into
//! frame-metadata's V14/V15 types.

use crate::storage::EntryMeta;
use crate::{Pallet, PalletEvent};
use alloc::vec::Vec;
use scale_info::{meta_type, MetaType};

/// A constant's description: name, type, SCALE value, docs.
#[derive(Clone, Debug)]
pub struct ConstantMeta {
    /// Metadata name (`"ExistentialDeposit"`).
    pub name: &'static str,
    /// Its type.
    pub ty: MetaType,
    /// Its SCALE-encoded value.
    pub value: Vec<u8>,
    /// Documentation (the `///` comment of its declaration).
    pub docs: &'static str,
}

/// A pallet's description: what the metadata lists for it.
#[derive(Clone, Debug)]
pub struct PalletMeta {
    /// Name and storage prefix.
    pub name: &'static str,
    /// Permanent index.
    pub index: u8,
    /// Storage items in declaration order.
    pub storage: Vec<EntryMeta>,
    /// The call enum.
    pub calls: Option<MetaType>,
    /// The event enum (`None` for a pallet without events).
    pub event: Option<MetaType>,
    /// The error enum.
    pub error: Option<MetaType>,
    /// Constants.
    pub constants: Vec<ConstantMeta>,
}

/// The description of `P`.
pub fn pallet_meta<P: Pallet>() -> PalletMeta {
    PalletMeta {
        name: P::NAME,
        index: P::INDEX,
        storage: P::storage(),
        calls: Some(meta_type::<P::Call>()),
        event: <P::Event as PalletEvent>::EXISTS.then(meta_type::<P::Event>),
        error: Some(meta_type::<P::Error>()),
        constants: P::constants(),
    }
}

/// Docs of a declaration as one line: the `///` lines joined (each begins
/// with the space after `///`), trimmed.
pub fn doc_line(docs: &'static str) -> &'static str {
    docs.trim()
}
