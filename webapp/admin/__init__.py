"""The staff area under /admin."""

from flask import Blueprint

bp = Blueprint("admin", __name__)


@bp.context_processor
def _admin_context():
    from webapp.admin.member_forms import LEDGER_KINDS, MEMBER_STATUSES
    from webapp.admin.staff_forms import ROLE_LABELS

    return {"role_labels": ROLE_LABELS, "ledger_kinds": LEDGER_KINDS,
            "member_statuses": MEMBER_STATUSES}


from webapp.admin import audit_log, members, owner, routes, tiers, wallet_settings  # noqa: E402,F401,I001
from webapp.admin import campaigns, challenges, rewards, rules, segments  # noqa: E402,F401,I001
from webapp.admin import contests, instant_wins, raffles, referrals  # noqa: E402,F401,I001
from webapp.admin import marketers  # noqa: E402,F401,I001
from webapp.admin import message_settings, message_templates  # noqa: E402,F401,I001
from webapp.admin import broadcasts, outbox  # noqa: E402,F401,I001
from webapp.admin import surveys  # noqa: E402,F401,I001
from webapp.admin import feedback  # noqa: E402,F401,I001
