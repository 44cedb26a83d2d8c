//! Tickets (whitepaper "Transaction" and XRP Ledger `TicketCreate`): sequence
//! numbers reserved ahead, so transactions whose order is not known in advance
//! (shared accounts, multi-signing, postponed transactions) can be signed now
//! and applied in any order. A transaction names a ticket instead of the
//! nonce in its `CheckTicket` signed extension; each ticket works once.
//!
//! `create_tickets(n)` runs after the executive advanced the nonce for the
//! transaction itself (or spent its ticket), so the tickets are the next `n`
//! sequence numbers `nonce .. nonce + n` and the nonce moves past them. Hence
//! every ticket stays below the account's nonce, and a ticket number not
//! stored and below the nonce can never become valid.

use crate::{deposit_event, BoundedVec, Error, Event, Tickets, MAX_TICKETS};
use qstack_core::{AccountId, Nonce};

/// Reserves the next `count` sequence numbers of `who` as tickets.
pub fn do_create_tickets(who: &AccountId, count: u32) -> Result<(), Error> {
    if count == 0 {
        return Err(Error::ZeroTickets);
    }
    let mut tickets = Tickets::get(who).unwrap_or_default();
    let outstanding = u32::try_from(tickets.len()).map_err(|_| Error::TooManyTickets)?;
    if outstanding.saturating_add(count) > MAX_TICKETS {
        return Err(Error::TooManyTickets);
    }
    let first = pallet_system::account_nonce(who);
    let end = first.checked_add(count).ok_or(Error::NonceOverflow)?;
    // Every existing ticket is below `first`: appending keeps the order.
    for t in first..end {
        tickets.try_push(t).map_err(|_| Error::TooManyTickets)?;
    }
    Tickets::insert(who, &tickets);
    pallet_system::owned::acquire(who, count);
    pallet_system::mutate_account(who, |a| a.nonce = end);
    deposit_event(Event::TicketsCreated {
        account: *who,
        first,
        count,
    });
    Ok(())
}

/// Whether `who` holds ticket `ticket`.
pub fn has_ticket(who: &AccountId, ticket: Nonce) -> bool {
    Tickets::get(who).is_some_and(|t| t.binary_search(&ticket).is_ok())
}

/// Spends ticket `ticket` of `who`; `false` (and no change) if it does not exist.
pub fn use_ticket(who: &AccountId, ticket: Nonce) -> bool {
    let Some(mut tickets) = Tickets::get(who) else {
        return false;
    };
    let Ok(i) = tickets.binary_search(&ticket) else {
        return false;
    };
    tickets.remove(i);
    pallet_system::owned::release(who, 1);
    if tickets.is_empty() {
        Tickets::remove(who);
    } else {
        Tickets::insert(who, &tickets);
    }
    deposit_event(Event::TicketUsed {
        account: *who,
        ticket,
    });
    true
}

/// Number of outstanding tickets of `who`.
pub fn ticket_count(who: &AccountId) -> u32 {
    // Bounded by MAX_TICKETS, so it always fits.
    Tickets::get(who).map_or(0, |t| {
        u32::try_from(BoundedVec::len(&t)).unwrap_or(u32::MAX)
    })
}
