"""Raffles: staff define and publish them (`setup`), members buy tickets (or
use coupons, or get their tier's extra tickets: `entries`), and the draw job
freezes the entries, draws with `games.raffle` and gives the prizes (`draw`).

Locks, always in this order, so nothing deadlocks: the raffle row first, then
the member. Adding tickets takes the raffle row FOR KEY SHARE (many members buy
at once, and each then moves the raffle's counters with an UPDATE, which FOR
SHARE would turn into a deadlock) and the member FOR NO KEY UPDATE (one member's
requests queue up, so the cap and the balance are exact); freezing, drawing,
awarding and cancelling take the raffle FOR UPDATE, which waits for every buy in
flight, so the frozen list is exactly what was bought before the close. On SQLite every write transaction is
serialised by BEGIN IMMEDIATE anyway.

The draw is commit-reveal: the seed is drawn when the raffle is published and
only its sha256 is shown until the winners are stored; the entry list is the
canonical file of `games.raffle`, kept byte for byte, so anyone can re-run the
draw (`python -m games.raffle verify`)."""

# the public names, as before the split into modules
from webapp.services.play.raffles import draw, entries, lists, setup
from webapp.services.play.raffles.draw import (
    award_prizes,
    close_due_ids,
    draw_due_ids,
    draw_ready,
    draw_winners,
    freeze_entries,
    prize_slots,
)
from webapp.services.play.raffles.entries import (
    CouponNotApplicable,
    MemberRaffle,
    RaffleClosed,
    RaffleNotEligible,
    TicketLimitReached,
    TicketsAdded,
    TicketsNotForSale,
    apply_coupon,
    buy_tickets,
    eligible,
    entry_of,
    is_open,
    member_raffles,
    odds_bp,
    public_raffle,
    ticket_coupons,
)
from webapp.services.play.raffles.lists import ListedRaffle, RaffleCard, listing
from webapp.services.play.raffles.setup import (
    BP,
    ENTRY_CODE_BYTES,
    LOCKED_FIELDS,
    MAX_ALTERNATES,
    MAX_BUY,
    MAX_CAP,
    MAX_NAME,
    MAX_PRICE,
    MAX_PRIZE_AMOUNT,
    MAX_PRIZE_LINES,
    MAX_WINNERS,
    PrizeSpec,
    RaffleInvalid,
    RaffleLocked,
    RaffleSpec,
    RaffleStats,
    RaffleWrongStatus,
    cancel_raffle,
    check_spec,
    counter_mismatches,
    create_raffle,
    prizes_of,
    publish_raffle,
    raffle_stats,
    request_draw,
    set_public_value,
    spec_of,
    update_raffle,
    winners,
    winners_of,
)

__all__ = [
    "draw", "entries", "lists", "setup", "MAX_NAME", "MAX_PRIZE_LINES", "MAX_WINNERS", "MAX_ALTERNATES", "MAX_PRICE",
    "MAX_CAP", "MAX_PRIZE_AMOUNT", "MAX_BUY", "BP", "ENTRY_CODE_BYTES", "LOCKED_FIELDS", "RaffleInvalid",
    "RaffleLocked", "RaffleWrongStatus", "PrizeSpec", "RaffleSpec", "winners_of", "check_spec",
    "spec_of", "prizes_of", "create_raffle", "update_raffle", "publish_raffle", "set_public_value",
    "request_draw", "cancel_raffle", "RaffleStats", "raffle_stats", "counter_mismatches", "winners", "RaffleClosed",
    "RaffleNotEligible", "TicketLimitReached", "TicketsNotForSale", "CouponNotApplicable", "TicketsAdded",
    "is_open", "eligible", "entry_of", "buy_tickets", "ticket_coupons", "apply_coupon", "odds_bp",
    "MemberRaffle", "member_raffles", "ListedRaffle", "RaffleCard", "listing", "public_raffle", "close_due_ids", "draw_due_ids",
    "freeze_entries", "draw_ready", "draw_winners", "prize_slots", "award_prizes",
]
