"""The club's own events write their messages in their own transaction, once per
cause: the same event replayed writes nothing new."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests import factories
from tests.factories import add_birthday_rule, set_birthday
from webapp.jobs.birthdays import award_birthdays_on
from webapp.models import InboxMessage, OutboxMessage
from webapp.services.ledger.purchases import record_purchase
from webapp.services.members import accounts
from webapp.services.messages import render
from webapp.services.messages.texts import default_text
from webapp.services.offers import rewards

TZ = "Asia/Tehran"


def outbox(session, member_id, kind):
    return sorted(tuple(r) for r in session.execute(
        select(OutboxMessage.channel, OutboxMessage.key, OutboxMessage.params)
        .where(OutboxMessage.member_id == member_id, OutboxMessage.kind == kind)))


def renders(kind, params):
    """The params feed the kind's default wording in both languages."""
    for locale in ("fa", "en"):
        row = OutboxMessage(id=1, kind=kind, channel="email", params=params)
        out = render.render(row, factories_member(locale), {"VAFA_PUBLIC_URL": "https://c.test", "SECRET_KEY": "k"},
                            default_text(kind, locale), to="x")
        assert out.text


def factories_member(locale):
    from webapp.models import Member

    return Member(id=1, display_name="Sara", locale=locale)


def test_a_sign_up_at_the_till_is_welcomed_once(session, now):
    ids = accounts.normalise_identifiers("new@example.com", None)
    member, created = accounts.find_or_create(session, ids=ids, now=now)
    again, created_again = accounts.find_or_create(session, ids=ids, now=now)
    assert (created, created_again, again.id) == (True, False, member.id)
    rows = outbox(session, member.id, "welcome")
    assert [(c, k) for c, k, _ in rows] == [("email", f"welcome:{member.id}"), ("inbox", f"welcome:{member.id}")]
    assert session.scalar(select(InboxMessage.kind).where(InboxMessage.member_id == member.id)) == "welcome"


def test_members_made_by_staff_or_demo_are_not_welcomed(session, now):
    member = factories.member(session)
    assert outbox(session, member.id, "welcome") == []


def test_a_purchase_sends_its_receipt_with_points_and_balance(session, now):
    member = factories.member(session, points=40)
    purchase, balance = record_purchase(session, member_id=member.id, amount=1_250_000, currency="IRR",
                                        occurred_at=now, now=now, external_ref="R-9")
    rows = outbox(session, member.id, "purchase_receipt")
    assert [(c, k) for c, k, _ in rows] == [("email", f"purchase:{purchase.id}:receipt")]
    params = rows[0][2]
    assert (params["amount"], params["points"], params["balance"]) == (1_250_000, 125, 165) == (
        purchase.amount, purchase.points_earned, balance)
    renders("purchase_receipt", params)


def test_a_redeemed_reward_tells_the_coupon_code_once_per_request(session, now):
    member = factories.member(session, points=500)
    reward = factories.reward(session, now, cost_points=100)
    first = rewards.redeem_reward(session, member_id=member.id, reward_id=reward.id, request_key="t1", now=now)
    replay = rewards.redeem_reward(session, member_id=member.id, reward_id=reward.id, request_key="t1", now=now)
    assert replay.replayed and replay.coupon.id == first.coupon.id
    rows = outbox(session, member.id, "reward_redeemed")
    assert {c for c, _, _ in rows} == {"inbox", "email", "push"}
    assert {k for _, k, _ in rows} == {f"coupon:{first.coupon.id}:redeemed"}
    params = rows[0][2]
    assert (params["coupon"], params["points"], params["reward_en"]) == (first.coupon.code, 100, "Discount")
    renders("reward_redeemed", params)


def test_the_birthday_message_comes_with_the_birthday_points_once(session, now):
    add_birthday_rule(session, now, points=300)
    member, other = factories.member(session), factories.member(session)
    local = (now + timedelta(hours=3, minutes=30)).date()
    set_birthday(session, member.id, date(1990, local.month, local.day))
    set_birthday(session, other.id, date(1990, local.month, local.day) + timedelta(days=1))
    assert award_birthdays_on(session, now=now, tz=TZ) == 1
    assert award_birthdays_on(session, now=now, tz=TZ) == 0
    rows = outbox(session, member.id, "birthday")
    assert [(c, k) for c, k, _ in rows] == [(c, f"birthday:{member.id}:{local.year}") for c in ("email", "inbox", "sms")]
    assert rows[0][2]["points"] == 300
    assert outbox(session, other.id, "birthday") == []
    renders("birthday", rows[0][2])


def test_the_nights_tier_messages_reach_every_channel_once_with_the_level_names(session, make_member, now):
    from tests.services.test_tier_evaluation import earn, install
    from webapp.services import tiers

    install(session, now, window_days=90, grace_days=7)
    member = make_member()
    earn(session, member.id, 600, now - timedelta(days=80))
    earn(session, member.id, 150, now - timedelta(days=10))
    session.commit()
    night = now + timedelta(days=11)
    for when in (now, now, night, night):  # each night twice
        tiers.evaluate_all(session, now=when)
        session.commit()
    up, risk = outbox(session, member.id, "tier_upgrade"), outbox(session, member.id, "tier_at_risk")
    assert [c for c, _, _ in up] == [c for c, _, _ in risk] == ["email", "inbox", "push"]
    assert (up[0][2]["tier_name_en"], up[0][2]["old_tier_name_en"]) == ("Gold", "")  # no level before
    assert (risk[0][2]["tier_name_en"], risk[0][2]["keep_needed"]) == ("Gold", 350)
    renders("tier_upgrade", up[0][2])
    renders("tier_at_risk", risk[0][2])
