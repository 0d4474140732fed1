"""/admin/messages/settings: the owner sets quiet hours, the daily marketing cap
and the win-back (days and offer); wrong values are refused on their field;
every change is audited; other roles are turned away."""

from __future__ import annotations

import html as htmlmod

from sqlalchemy import select

from tests import factories
from tests.helpers.web import in_db, post_form, sign_in_staff
from webapp.models import AuditLog
from webapp.services.messages import policy, winback

URL = "/admin/messages/settings"
GOOD = {"quiet_start": "23:00", "quiet_end": "07:30", "daily_marketing_cap": "3", "win_back_days": "45",
        "win_back_offer": "points", "win_back_reward": "", "win_back_points": "۱۵۰"}


def test_the_owner_saves_quiet_hours_cap_and_win_back_and_each_is_audited(client, app, make_staff):
    sign_in_staff(client, make_staff("owner"))
    page = client.get(URL)
    assert page.status_code == 200 and 'value="22:00"' in page.get_data(as_text=True)
    assert post_form(client, URL, GOOD).status_code == 302
    quiet = in_db(app, policy.load_messaging_settings)
    assert (quiet.quiet_start, quiet.quiet_end, quiet.daily_marketing_cap) == ("23:00", "07:30", 3)
    assert in_db(app, winback.load_win_back_settings) == winback.WinBackSettings(45, "points", None, 150)
    actions = in_db(app, lambda s: sorted(s.scalars(select(AuditLog.action).where(AuditLog.action.like("settings.%")))))
    assert actions == ["settings.messaging", "settings.win_back"]
    assert post_form(client, URL, GOOD).status_code == 302  # the same again: nothing new to audit
    assert in_db(app, lambda s: len(list(s.scalars(select(AuditLog.id).where(AuditLog.action.like("settings.%")))))) == 2


def test_wrong_values_are_refused_on_their_fields_and_nothing_is_saved(client, app, make_staff):
    sign_in_staff(client, make_staff("owner"))
    answer = post_form(client, URL, {**GOOD, "quiet_start": "25:00", "daily_marketing_cap": "500"})
    assert answer.status_code == 422
    body = htmlmod.unescape(answer.get_data(as_text=True))
    assert "A time like 22:00." in body and "Between 0 and 100." in body
    no_reward = post_form(client, URL, {**GOOD, "win_back_offer": "reward", "win_back_reward": ""})
    assert no_reward.status_code == 422
    assert "Choose a reward that is not archived." in htmlmod.unescape(no_reward.get_data(as_text=True))
    assert in_db(app, policy.load_messaging_settings) == policy.MessagingSettings()
    assert in_db(app, winback.load_win_back_settings) == winback.WinBackSettings()


def test_a_reward_offer_is_chosen_from_the_catalog(client, app, make_staff):
    reward_id = in_db(app, lambda s: (factories.reward(s, name_en="Free tea").id, s.commit())[0])
    sign_in_staff(client, make_staff("owner"))
    assert "Free tea" in client.get(URL).get_data(as_text=True)
    assert post_form(client, URL, {**GOOD, "win_back_offer": "reward", "win_back_reward": str(reward_id)}
                     ).status_code == 302
    assert in_db(app, winback.load_win_back_settings) == winback.WinBackSettings(45, "reward", reward_id, 0)


def test_only_the_owner_changes_messaging_settings(client, make_staff):
    for role in ("marketer", "operator", "auditor"):
        fresh = client.application.test_client()
        sign_in_staff(fresh, make_staff(role))
        assert fresh.get(URL).status_code == 403, role
