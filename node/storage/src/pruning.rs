//! The pruning setting and the per-block journal that state pruning
//! replays (the scheme is described in the crate documentation).

use std::{fmt, num::NonZeroU32};

use codec::{Decode, Encode};

/// How long the states of old blocks are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruningMode {
    /// Keep every state forever; no journal is written.
    Archive,
    /// Keep the states of the last `n` best-chain blocks (and the forks that
    /// branch off them); older states are deleted as the chain grows.
    KeepLast(NonZeroU32),
}

impl PruningMode {
    /// The default window: 256 blocks, as Substrate's.
    pub const DEFAULT_KEEP_LAST: NonZeroU32 = match NonZeroU32::new(256) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    };

    /// The window length, `None` for an archive.
    pub fn window(&self) -> Option<NonZeroU32> {
        match self {
            Self::Archive => None,
            Self::KeepLast(n) => Some(*n),
        }
    }
}

impl Default for PruningMode {
    fn default() -> Self {
        Self::KeepLast(Self::DEFAULT_KEEP_LAST)
    }
}

impl fmt::Display for PruningMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Archive => f.write_str("archive"),
            Self::KeepLast(n) => write!(f, "keep-last-{n}"),
        }
    }
}

/// How the pruning mode is recorded in META. Only archive versus pruned is
/// binding; the window length may change between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub(crate) enum StoredPruning {
    #[codec(index = 0)]
    Archive,
    #[codec(index = 1)]
    KeepLast(u32),
}

impl From<PruningMode> for StoredPruning {
    fn from(mode: PruningMode) -> Self {
        match mode {
            PruningMode::Archive => Self::Archive,
            PruningMode::KeepLast(n) => Self::KeepLast(n.get()),
        }
    }
}

impl StoredPruning {
    /// The mode for error messages (a zero window, which is never written,
    /// shows as one).
    pub(crate) fn mode(self) -> PruningMode {
        match self {
            Self::Archive => PruningMode::Archive,
            Self::KeepLast(n) => {
                PruningMode::KeepLast(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
            }
        }
    }
}

/// What pruning needs to know about one block's state delta, kept in the
/// JOURNAL column under the block hash while the block's state is kept.
///
/// Keys are STATE column keys; counts are how many references the block's
/// delta added or released.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub(crate) struct Journal {
    /// Nodes the block's state added (`+n` entries): released again if the
    /// block is discarded with its fork.
    pub(crate) inserted: Vec<(Vec<u8>, u32)>,
    /// Nodes of the parent state the block's state no longer has (`-n`
    /// entries): released when the parent's state leaves the window with
    /// this block on the best chain.
    pub(crate) removed: Vec<(Vec<u8>, u32)>,
}
