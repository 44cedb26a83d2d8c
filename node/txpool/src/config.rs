//! Pool limits and maintenance budgets.

/// Limits and budgets of a [`Pool`](crate::Pool). Counts and sizes are of
/// encoded extrinsics; "blocks" are calls of [`Pool::on_block`](crate::Pool::on_block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most transactions held, ready and future together.
    pub max_count: usize,
    /// Most encoded bytes held, ready and future together.
    pub max_bytes: usize,
    /// Most future transactions held (they count towards `max_count` too).
    pub max_future_count: usize,
    /// Most encoded bytes of future transactions (they count towards `max_bytes` too).
    pub max_future_bytes: usize,
    /// Largest single transaction accepted, in bytes; larger ones are refused
    /// before validation.
    pub max_tx_bytes: usize,
    /// Most transactions re-validated per block; the pool rotates through its
    /// transactions in arrival order so every one is re-checked within
    /// `count / revalidate_per_block` blocks.
    pub revalidate_per_block: usize,
    /// Blocks after its last validation before a transaction is validated
    /// again (0: at every block, within the budget above).
    pub revalidate_after_blocks: u64,
    /// Blocks during which a transaction found invalid is refused without
    /// validation.
    pub ban_blocks: u64,
    /// Most banned hashes remembered; the oldest ban is forgotten first.
    pub max_banned: usize,
    /// Most included transactions remembered so `on_finalized` can report them.
    pub max_in_block_tracked: usize,
    /// Blocks during which tags provided by included transactions count as
    /// satisfied for newly submitted ones (validated against a slightly older state).
    pub recent_tags_blocks: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_count: 8192,
            max_bytes: 64 * 1024 * 1024,
            max_future_count: 1024,
            max_future_bytes: 8 * 1024 * 1024,
            max_tx_bytes: 5 * 1024 * 1024,
            revalidate_per_block: 512,
            revalidate_after_blocks: 2,
            // About half an hour at one block every 6 s.
            ban_blocks: 300,
            max_banned: 16 * 1024,
            max_in_block_tracked: 16 * 1024,
            recent_tags_blocks: 4,
        }
    }
}
