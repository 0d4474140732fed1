"""The instant win's registry entry: one kind (a wheel or a scratch card is
its style) with its own tables and pages (/play/spin, /admin/instant-wins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from webapp.services.play.instant_win import setup
from webapp.services.play.kinds import GameKind


class InstantWinKind(GameKind):
    kind = "instant_win"
    family = "instant_win"
    label = _l("Spin & win")
    tab = ("member.instant_wins", "member.instant_win", _l("Spin & win"))
    templates = {"list": "member/instant_wins.html", "play": "member/instant_win.html",
                 "result": "member/instant_win_result.html", "editor": "admin/instant_win_form.html",
                 "staff_list": "admin/instant_wins.html"}
    forms = {"editor": "webapp.admin.instant_win_forms:GameForm"}
    play_actions = frozenset({"play"})  # POST /play/spin/<id>
    staff_actions = frozenset({"end"})

    def check_settings(self, session: Session, settings: setup.GameSpec) -> dict[str, str]:
        return setup.check_spec(session, settings)
