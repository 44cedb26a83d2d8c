//! Reading a block's events through the chain's own metadata, so a client
//! built with an older runtime still follows transactions after a forkless
//! upgrade: each record is delimited by walking the metadata's type
//! registry, and only the records this client knows (by their bytes) are
//! decoded with its own types; the others are skipped, not misread.

use crate::{Error, Result};
use codec::{Compact, Decode};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use qstack_runtime::system::Phase;
use qstack_runtime::RuntimeEvent;
use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};

/// Deepest type nesting followed (a registry cannot make the walk recurse
/// for ever).
const MAX_DEPTH: u32 = 64;

fn bad(m: &str) -> Error {
    Error::Response(format!("events: {m}"))
}

/// Skips one value of type `id` in `input`.
fn skip(types: &PortableRegistry, id: u32, input: &mut &[u8], depth: u32) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(bad("types nest too deep"));
    }
    let ty = types.resolve(id).ok_or_else(|| bad("unknown type id"))?;
    let take = |input: &mut &[u8], n: usize| -> Result<()> {
        if input.len() < n {
            return Err(bad("truncated"));
        }
        *input = &input[n..];
        Ok(())
    };
    let len = |input: &mut &[u8]| -> Result<usize> {
        let n = Compact::<u32>::decode(input).map_err(|_| bad("bad length"))?;
        Ok(n.0 as usize)
    };
    match &ty.type_def {
        TypeDef::Composite(c) => {
            for f in &c.fields {
                skip(types, f.ty.id, input, depth + 1)?;
            }
        }
        TypeDef::Variant(v) => {
            let index = u8::decode(input).map_err(|_| bad("truncated"))?;
            let variant = v
                .variants
                .iter()
                .find(|x| x.index == index)
                .ok_or_else(|| bad("unknown variant"))?;
            for f in &variant.fields {
                skip(types, f.ty.id, input, depth + 1)?;
            }
        }
        TypeDef::Sequence(s) => {
            for _ in 0..len(input)? {
                skip(types, s.type_param.id, input, depth + 1)?;
            }
        }
        TypeDef::Array(a) => {
            for _ in 0..a.len {
                skip(types, a.type_param.id, input, depth + 1)?;
            }
        }
        TypeDef::Tuple(t) => {
            for f in &t.fields {
                skip(types, f.id, input, depth + 1)?;
            }
        }
        TypeDef::Primitive(p) => {
            let n = match p {
                TypeDefPrimitive::Bool | TypeDefPrimitive::U8 | TypeDefPrimitive::I8 => 1,
                TypeDefPrimitive::U16 | TypeDefPrimitive::I16 => 2,
                TypeDefPrimitive::Char | TypeDefPrimitive::U32 | TypeDefPrimitive::I32 => 4,
                TypeDefPrimitive::U64 | TypeDefPrimitive::I64 => 8,
                TypeDefPrimitive::U128 | TypeDefPrimitive::I128 => 16,
                TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => 32,
                TypeDefPrimitive::Str => len(input)?,
            };
            take(input, n)?;
        }
        TypeDef::Compact(_) => {
            Compact::<u128>::decode(input).map_err(|_| bad("bad compact"))?;
        }
        TypeDef::BitSequence(_) => {
            let bits = len(input)?;
            take(input, bits.div_ceil(8))?;
        }
    }
    Ok(())
}

/// The value type of `System.Events` (a `Vec` of event records).
fn events_type(meta: &RuntimeMetadata) -> Option<(&PortableRegistry, u32)> {
    let (types, pallets) = match meta {
        RuntimeMetadata::V14(m) => (&m.types, &m.pallets),
        _ => return None,
    };
    let system = pallets.iter().find(|p| p.name == "System")?;
    let entry = system
        .storage
        .as_ref()?
        .entries
        .iter()
        .find(|e| e.name == "Events")?;
    match &entry.ty {
        frame_metadata::v14::StorageEntryType::Plain(ty) => Some((types, ty.id)),
        frame_metadata::v14::StorageEntryType::Map { .. } => None,
    }
}

/// The events of `raw` (`System.Events`) this client's runtime knows, with
/// their phase, read through `metadata` (the chain's at that block); events
/// of pallets or variants this client does not know are left out.
pub fn known_events(raw: &[u8], metadata: &[u8]) -> Result<Vec<(Phase, RuntimeEvent)>> {
    // Fast path: every event is one this client knows.
    if let Ok(records) = Vec::<qstack_runtime::EventRecord>::decode(&mut &raw[..]) {
        return Ok(records.into_iter().map(|r| (r.phase, r.event)).collect());
    }
    let RuntimeMetadataPrefixed(_, meta) =
        RuntimeMetadataPrefixed::decode(&mut &metadata[..]).map_err(|_| bad("metadata"))?;
    let (types, vec_ty) = events_type(&meta).ok_or_else(|| bad("no System.Events in metadata"))?;
    let record_ty = match &types.resolve(vec_ty).map(|t| &t.type_def) {
        Some(TypeDef::Sequence(s)) => s.type_param.id,
        _ => return Err(bad("System.Events is not a sequence")),
    };
    let fields: Vec<u32> = match types.resolve(record_ty).map(|t| &t.type_def) {
        Some(TypeDef::Composite(c)) => c.fields.iter().map(|f| f.ty.id).collect(),
        _ => return Err(bad("an event record is not a struct")),
    };
    let [phase_ty, event_ty, topics_ty] = fields[..] else {
        return Err(bad("an event record is not (phase, event, topics)"));
    };
    known_with_phases(raw, types, phase_ty, event_ty, topics_ty)
}

/// Decodes each record's phase natively and its event natively when the
/// client knows it, delimiting both through the registry.
fn known_with_phases(
    raw: &[u8],
    types: &PortableRegistry,
    phase_ty: u32,
    event_ty: u32,
    topics_ty: u32,
) -> Result<Vec<(Phase, RuntimeEvent)>> {
    let mut input = raw;
    let count = Compact::<u32>::decode(&mut input)
        .map_err(|_| bad("bad length"))?
        .0;
    let mut out = Vec::new();
    for _ in 0..count {
        let phase_start = input;
        skip(types, phase_ty, &mut input, 0)?;
        let phase_bytes = &phase_start[..phase_start.len() - input.len()];
        let event_start = input;
        skip(types, event_ty, &mut input, 0)?;
        let event_bytes = &event_start[..event_start.len() - input.len()];
        skip(types, topics_ty, &mut input, 0)?;
        let (Ok(phase), Ok(event)) = (
            Phase::decode(&mut &phase_bytes[..]),
            RuntimeEvent::decode(&mut &event_bytes[..]),
        ) else {
            continue;
        };
        out.push((phase, event));
    }
    Ok(out)
}
