//! Tickets.

use super::*;
use crate::tickets::{has_ticket, ticket_count, use_ticket};

fn create(count: u32) -> Result<(), DispatchError> {
    call(ALICE, SignedWith::Master, Call::CreateTickets { count })
}

#[test]
fn tickets_reserve_the_next_sequence_numbers() {
    let a = acc(ALICE);
    Test::new().account(ALICE).nonce(a, 5).run(|| {
        create(3).unwrap();
        assert_eq!(Tickets::get(&a).unwrap().as_slice(), &[5, 6, 7]);
        assert_eq!(pallet_system::account_nonce(&a), 8);
        assert_eq!(
            take_events(),
            vec![Event::TicketsCreated {
                account: a,
                first: 5,
                count: 3
            }]
        );
        // Used in any order, each once.
        assert!(use_ticket(&a, 7));
        assert!(use_ticket(&a, 5));
        assert!(!use_ticket(&a, 7), "a ticket works once");
        assert!(!use_ticket(&a, 8), "never created");
        assert!(has_ticket(&a, 6) && !has_ticket(&a, 5));
        assert_eq!(
            take_events(),
            vec![
                Event::TicketUsed {
                    account: a,
                    ticket: 7
                },
                Event::TicketUsed {
                    account: a,
                    ticket: 5
                }
            ]
        );
        assert!(use_ticket(&a, 6));
        assert!(!Tickets::contains_key(&a), "no empty list is stored");
        // Using tickets leaves the nonce alone.
        assert_eq!(pallet_system::account_nonce(&a), 8);
        take_events();
    });
}

#[test]
fn two_hundred_fifty_outstanding_but_not_two_hundred_fifty_one() {
    let a = acc(ALICE);
    Test::new().account(ALICE).run(|| {
        assert_fails(Error::ZeroTickets, || create(0));
        assert_fails(Error::TooManyTickets, || create(251));
        assert_eq!(pallet_system::account_nonce(&a), 0);
        create(200).unwrap();
        assert_eq!(take_events().len(), 1);
        assert_fails(Error::TooManyTickets, || create(51));
        create(50).unwrap();
        assert_eq!(
            take_events(),
            vec![Event::TicketsCreated {
                account: a,
                first: 200,
                count: 50
            }]
        );
        assert_eq!(ticket_count(&a), 250);
        assert_eq!(pallet_system::account_nonce(&a), 250);
        assert_fails(Error::TooManyTickets, || create(1));
        // Spending one makes room for one.
        assert!(use_ticket(&a, 17));
        create(1).unwrap();
        assert_eq!(ticket_count(&a), 250);
        assert_eq!(Tickets::get(&a).unwrap().last(), Some(&250));
        assert_eq!(
            take_events(),
            vec![
                Event::TicketUsed {
                    account: a,
                    ticket: 17
                },
                Event::TicketsCreated {
                    account: a,
                    first: 250,
                    count: 1
                }
            ]
        );
    });
}

#[test]
fn the_nonce_cannot_overflow() {
    let a = acc(ALICE);
    Test::new().account(ALICE).nonce(a, u32::MAX - 2).run(|| {
        assert_fails(Error::NonceOverflow, || create(3));
        create(2).unwrap();
        assert_eq!(pallet_system::account_nonce(&a), u32::MAX);
        take_events();
    });
}
