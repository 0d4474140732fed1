"""Shared setup for the raffle tests: a published raffle through the services staff use."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from webapp.services.members import audit
from webapp.services.play import raffles

SEED = bytes(range(32))
# a fresh request key per call (`id(object())` was reused by the allocator: a
# second buy replayed the first)
_REQUESTS = count(1)


def prize(kind="points", quantity=1, amount=500, **kw):
    names = {"points": ("امتیاز", "Points"), "credit": ("اعتبار", "Credit"),
             "reward": ("جایزه", "Reward"), "physical": ("دوچرخه", "A bicycle")}[kind]
    return raffles.PrizeSpec(name_fa=names[0], name_en=names[1], quantity=quantity, kind=kind,
                             amount=amount if kind in ("points", "credit") else 0, **kw)


def make_raffle(session, now, *, publish=True, prizes=None, **kw):
    data = {"name_fa": "قرعه‌کشی پاییز", "name_en": "Autumn raffle", "ticket_price": 10,
            "max_tickets_per_member": 20, "closes_at": now + timedelta(days=1),
            "draw_at": now + timedelta(days=1, hours=1), "prizes": tuple(prizes or (prize(),)),
            "alternates": 1, **kw}
    raffle = raffles.create_raffle(session, raffles.RaffleSpec(**data), actor=audit.CLI, now=now)
    if publish:
        raffles.publish_raffle(session, raffle.id, actor=audit.CLI, now=now, seed=SEED)
    session.commit()
    return raffle.id


def buy(session, raffle_id, member_id, quantity, now, key=None):
    done = raffles.buy_tickets(session, raffle_id=raffle_id, member_id=member_id, quantity=quantity,
                               request_key=key or f"{member_id}:{quantity}:{now.isoformat()}:{next(_REQUESTS)}",
                               now=now)
    session.commit()
    return done
