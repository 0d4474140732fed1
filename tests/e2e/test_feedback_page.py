"""Writing to the club on a 360 px phone, in Persian and English: the member
finds "talk to us" on /me, sends a complaint with a picture, is told what is
wrong with a file that is not a picture (the text stays), reads staff's reply in
the thread (never the internal note) and answers back. Every page fits the
screen and axe finds no serious or critical problems."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

import pytest

from tests.e2e.pages import PASSWORD, SMALL_PHONE, check_the_page, sign_in


def tiny_png() -> bytes:
    """A real 2×2 teal PNG, so the browser shows it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x0f\x76\x6e" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def staff_answer(app, thread_id: int) -> None:
    from webapp.extensions import db
    from webapp.services import feedback
    from webapp.services.members import audit
    from webapp.services.members.staff import create_staff

    with app.app_context():
        now = datetime.now(UTC)
        staff = create_staff(db.session, email="desk@staff.example.com", password="staff-password-1",
                             role="operator", actor=audit.CLI, now=now)
        actor = audit.Actor.of_staff(staff)
        feedback.add_note(db.session, thread_id=thread_id, body="INTERNAL: refund approved", actor=actor, now=now)
        feedback.staff_reply(db.session, thread_id=thread_id, body="Sorry!\nYour next coffee is on us.",
                             actor=actor, now=now)
        db.session.commit()


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_member_writes_to_the_club_and_talks_with_staff(app, make_member, browser_page, axe_violations,
                                                          locale, tmp_path):
    make_member(email=f"feedback-{locale}@example.com", password=PASSWORD, locale=locale, display_name="Sara")
    picture, not_a_picture = tmp_path / "cup.png", tmp_path / "notes.png"
    picture.write_bytes(tiny_png())
    not_a_picture.write_bytes(b"just some text, not an image")
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, f"feedback-{locale}@example.com")

    page.click("#feedback-card a[href='/feedback']")
    page.wait_for_url("**/feedback")
    check_the_page(page, axe_violations, "feedback", locale)

    # a file that is not a picture: said on the form, the text kept
    page.check("input[name=category][value=complaint]")
    page.fill("#body", "The coffee was cold <b>twice</b>")
    page.set_input_files("#picture", str(not_a_picture))
    page.click("main form.feedback-form button[type=submit]")
    assert page.locator("#picture-error").is_visible()
    assert page.input_value("#body") == "The coffee was cold <b>twice</b>"
    check_the_page(page, axe_violations, "feedback-refused", locale)

    # now with a real picture
    page.set_input_files("#picture", str(picture))
    page.click("main form.feedback-form button[type=submit]")
    page.wait_for_url("**/feedback/*")
    thread_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator(".post-member .post-body").text_content() == "The coffee was cold <b>twice</b>"
    assert page.locator(".post-picture img").evaluate("img => img.complete && img.naturalWidth") == 2
    check_the_page(page, axe_violations, "feedback-thread", locale)

    # staff answer (with a note the member must never see); the member answers back
    staff_answer(app, thread_id)
    page.reload()
    assert "Your next coffee is on us." in page.locator(".post-staff .post-body").text_content()
    assert "INTERNAL" not in page.text_content("main")
    page.fill("#body", "Thank you!")
    page.click("main form.feedback-reply button[type=submit]")
    page.wait_for_url(f"**/feedback/{thread_id}*")
    assert page.locator(".post-member .post-body").last.text_content() == "Thank you!"
    check_the_page(page, axe_violations, "feedback-thread-replied", locale)

    page.goto("/feedback")
    assert page.locator("#feedback-threads .thread-item").count() == 1
    check_the_page(page, axe_violations, "feedback-list", locale)
