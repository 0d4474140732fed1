"""The raffle's registry entry: one kind with its own tables and pages
(/raffles, /admin/raffles), drawn by its own job (jobs/raffles.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from webapp.services.play.kinds import GameKind
from webapp.services.play.raffles import setup


class RaffleKind(GameKind):
    kind = "raffle"
    family = "raffle"
    label = _l("Raffle")
    tab = ("member.raffles", "member.raffle", _l("Raffles"))
    templates = {"list": "member/raffles.html", "play": "member/raffle.html", "verify": "member/raffle_verify.html",
                 "editor": "admin/raffle_form.html", "staff_list": "admin/raffles.html"}
    forms = {"editor": "webapp.admin.raffle_forms:RaffleForm",
             "public_value": "webapp.admin.raffle_forms:PublicValueForm",
             "cancel": "webapp.admin.raffle_forms:CancelForm"}
    play_actions = frozenset({"buy", "coupon", "verify"})  # /raffles/<id>/buy, /coupon, /verify
    staff_actions = frozenset({"public_value", "draw", "cancel"})

    def check_settings(self, session: Session, settings: setup.RaffleSpec) -> dict[str, str]:
        return setup.check_spec(session, settings)
