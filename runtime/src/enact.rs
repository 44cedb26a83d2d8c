//! Governance's parameter changes in the runtime: what a
//! `ParameterChange` proposal may carry (checked when it is submitted), and
//! dispatching the accepted ones as root at the start of a block.
//!
//! A parameter change is decided at the important level, so it must not
//! carry a call that needs another: the allowed calls are those a pallet
//! marks as parameter setters (`Dispatch::is_parameter_change`), nothing
//! else (no `set_code`, no upgrade authorisation, no sudo, no transfer out
//! of any account).

use crate::{governance, system, RuntimeCall, VERSION};
use codec::DecodeLimit;
use qstack_runtime_primitives::extrinsic::MAX_CALL_DEPTH;
use qstack_runtime_primitives::DispatchError;
use qstack_support::{DispatchContext, Origin};

/// Accepted parameter changes dispatched per block, at most (the rest wait
/// for the next block, in order).
pub const MAX_ENACTMENTS_PER_BLOCK: u32 = 8;

/// The parameter call encoded in a proposal, or why it is not one.
pub fn parameter_call(bytes: &[u8]) -> Result<RuntimeCall, DispatchError> {
    let call = RuntimeCall::decode_all_with_depth_limit(MAX_CALL_DEPTH, &mut &bytes[..])
        .map_err(|_| DispatchError::from(governance::Error::NotAParameterChange))?;
    if !call.is_parameter_change() {
        return Err(governance::Error::NotAParameterChange.into());
    }
    Ok(call)
}

/// Refuses a governance submission whose parameter change is not one
/// (before anything is written).
pub fn check_submission(call: &RuntimeCall) -> Result<(), DispatchError> {
    if let RuntimeCall::Governance(governance::Call::Submit {
        kind: governance::ProposalKind::ParameterChange { call },
        ..
    }) = call
    {
        parameter_call(call)?;
    }
    Ok(())
}

/// Dispatches the parameter changes governance accepted, as root, each in
/// its own storage transaction (a failing one writes nothing), charging
/// their weight to the block. Runs after every pallet's `on_initialize`.
pub fn enact_due() {
    for (id, bytes) in governance::take_enactments(MAX_ENACTMENTS_PER_BLOCK) {
        let result = parameter_call(&bytes).and_then(|call| {
            let weight = call.weight();
            system::BlockWeight::mutate(|w| *w = Some(w.unwrap_or(0).saturating_add(weight)));
            let root = DispatchContext::new(Origin::Root, &VERSION);
            qstack_support::transactional(|| call.dispatch_in(&root))
        });
        governance::note_enacted(id, result);
    }
}
