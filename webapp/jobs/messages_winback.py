"""The daily win-back job: members whose last purchase is older than the owner's
number of days get the win-back message once per lapse (`services.messages.winback`)."""

from __future__ import annotations

from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services.messages import winback


def send_win_back_messages() -> int:
    """Daily: write the due win-back messages; returns how many members were newly told."""
    with job_app():
        session = db.session
        told = winback.send_win_back(session, now=utcnow())
        session.commit()
        return told
