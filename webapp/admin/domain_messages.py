"""What the services' domain errors say to staff, by error code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# What the services' domain errors say to staff, by error code (their own
# messages are English-only).
DOMAIN_MESSAGES = {
    "insufficient_points": _l("The member does not have that many points: "
                              "the balance cannot go below zero."),
    "insufficient_credit": _l("The member does not have that much credit."),
    "idempotency_conflict": _l("This form was already submitted with other values. "
                               "Nothing was changed; check the ledger and try again."),
    "reason_required": _l("Give a reason of at least 3 characters."),
    "amount_out_of_range": _l("The amount is zero or too large."),
    "invalid_form_token": _l("The form is missing its one-time token; reload the page."),
    "invalid_email": _l("This is not a valid e-mail address."),
    "weak_password": _l("The password must be at least 8 characters."),
    "conflict": _l("A staff account with this e-mail already exists."),
    "self_deactivation": _l("You cannot deactivate your own account."),
    "not_found": _l("Not found."),
    "tier_overrides_off": _l("The tier program does not allow overrides."),
    "no_tier_program": _l("The club has no tier program yet."),
    "unknown_tier": _l("There is no such level in the tier program."),
    "invalid_override": _l("Choose an end date after today, at most ten years ahead."),
    "tier_program_invalid": _l("The tier program is not valid."),
}


def domain_message(exc) -> str:
    return DOMAIN_MESSAGES.get(exc.code, exc.message)
