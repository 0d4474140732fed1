"""The minimal member inbox the tier engine writes to."""

from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.services.members import inbox


def test_a_key_posts_once(session, make_member, now):
    member = make_member()
    first = inbox.post_message(session, member_id=member.id, kind="tier_upgrade",
                               params={"from": "bronze", "to": "silver"}, key="k1", now=now)
    again = inbox.post_message(session, member_id=member.id, kind="tier_upgrade",
                               params={"from": "bronze", "to": "silver"}, key="k1", now=now)
    session.commit()
    assert first.id and first.params == {"from": "bronze", "to": "silver"} and again is None
    assert inbox.unread_count(session, member.id) == 1


def test_params_must_be_json(session, make_member, now):
    member = make_member()
    with pytest.raises(TypeError):
        inbox.post_message(session, member_id=member.id, kind="x", params={"when": now}, key="k", now=now)


def test_messages_page_newest_first(session, make_member, now):
    member = make_member()
    for n in range(5):
        inbox.post_message(session, member_id=member.id, kind="fee_rebate",
                           params={"points": n, "day": "2026-11-24"}, key=f"m{n}", now=now + timedelta(minutes=n))
    session.commit()
    page = inbox.member_messages(session, member.id, limit=3)
    assert [m.params["points"] for m in page] == [4, 3, 2]
    rest = inbox.member_messages(session, member.id, before_id=page[-1].id, limit=3)
    assert [m.params["points"] for m in rest] == [1, 0]


def test_a_member_marks_only_their_own_messages_read(session, make_member, now):
    alice, bob = make_member(), make_member()
    a = inbox.post_message(session, member_id=alice.id, kind="k", params={}, key="a", now=now)
    b = inbox.post_message(session, member_id=bob.id, kind="k", params={}, key="b", now=now)
    inbox.post_message(session, member_id=alice.id, kind="k", params={}, key="a2", now=now)
    session.commit()
    assert inbox.mark_read(session, member_id=alice.id, message_ids=[a.id, b.id], now=now) == 1
    session.commit()
    assert inbox.unread_count(session, bob.id) == 1 and inbox.unread_count(session, alice.id) == 1
    assert inbox.mark_read(session, member_id=alice.id, now=now) == 1
    assert inbox.mark_read(session, member_id=alice.id, now=now) == 0
    assert inbox.mark_read(session, member_id=alice.id, message_ids=[], now=now) == 0


def test_many_messages_post_in_batches_skipping_known_keys(session, make_member, now):
    member = make_member()
    rows = [{"member_id": member.id, "kind": "k", "params": {"n": n}, "key": f"bulk:{n}"}
            for n in range(inbox.BATCH + 5)]
    assert inbox.post_messages(session, rows, now=now) == inbox.BATCH + 5
    assert inbox.post_messages(session, rows[:10], now=now) == 0
    session.commit()
    assert inbox.unread_count(session, member.id) == inbox.BATCH + 5
