"""/admin/messages/templates: staff word what the club says by itself, with a
live preview, refused templates naming their unknown variable, channel switches
per kind, every change audited; owners and marketers edit, auditors read."""

from __future__ import annotations

import html as htmlmod

import pytest
from sqlalchemy import select

from tests.helpers.web import csrf_token, in_db, post_form, sign_in_staff
from webapp.models import AuditLog, MessageTemplate
from webapp.services.messages import catalog
from webapp.services.messages import templates as wording
from webapp.services.messages.texts import default_text

LIST = "/admin/messages/templates"
EDITOR = "/admin/messages/templates/birthday/en"


def page(response) -> str:
    return htmlmod.unescape(response.get_data(as_text=True))


def signed_in(client, make_staff, role="owner"):
    staff = make_staff(role)
    sign_in_staff(client, staff)
    return staff


def test_the_list_shows_every_kind_by_category_with_its_channels(client, make_staff):
    signed_in(client, make_staff)
    answer = client.get(LIST)
    assert answer.status_code == 200
    body = page(answer)
    for kind in catalog.KINDS:
        assert f'id="kind-{kind}"' in body
    assert 'action="/admin/messages/templates/win_back/channels"' in body
    assert 'action="/admin/messages/templates/sign_in_code/channels"' not in body  # never switched off


def test_the_editor_starts_from_the_default_and_previews_it(client, make_staff):
    signed_in(client, make_staff, "marketer")
    body = page(client.get(EDITOR))
    assert default_text("birthday", "en").body in body
    assert "Happy birthday, Sara!" in body and "200 points" in body  # the sample values
    assert "1 SMS" in body or "2 SMS" in body


def test_a_live_preview_renders_what_is_typed_and_saves_nothing(client, app, make_staff):
    signed_in(client, make_staff)
    token = csrf_token(client, EDITOR)
    answer = client.post(f"{EDITOR}/preview", data={"csrf_token": token, "subject": "Hi {{ name }}",
                                                    "body": "You got {{ points|number }} points"},
                         headers={"HX-Request": "true"})
    assert answer.status_code == 200
    body = page(answer)
    assert body.lstrip().startswith('<div id="template-preview"')  # the block only
    assert "Hi Sara" in body and "You got 200 points" in body and "18 characters, 1 SMS" in body
    assert in_db(app, lambda s: s.scalar(select(MessageTemplate.id))) is None


def test_an_unknown_variable_is_refused_by_name_in_the_preview_and_on_save(client, app, make_staff):
    signed_in(client, make_staff)
    token = csrf_token(client, EDITOR)
    preview = client.post(f"{EDITOR}/preview", data={"csrf_token": token, "subject": "Hi",
                                                     "body": "Your code {{ coupon_code }}"})
    assert "Unknown variable: coupon_code" in page(preview)
    saved = post_form(client, EDITOR, {"subject": "Hi", "body": "Your code {{ coupon_code }}"})
    assert saved.status_code == 422
    assert "Unknown variable: coupon_code" in page(saved)
    assert in_db(app, lambda s: s.scalar(select(MessageTemplate.id))) is None


@pytest.mark.parametrize(("source", "words"), [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "not allowed in a message"),
    ("{{ name.__class__.__init__.__globals__ }}", "not allowed in a message: Getattr"),
    ("{{ name|attr('__class__') }}", "SecurityError"),
    ("{% for x in range(10**9) %}{% endfor %}", "not allowed in a message: For"),
    ("{{ 'x' * 999999999 }}", "not allowed in a message: Mul"),
    ("{{ name|center(999999999) }}", "number too large"),
    ("{{ points", "This template cannot be used"),
])
def test_a_template_cannot_run_code_and_is_a_form_error_not_a_500(client, app, make_staff, source, words):
    signed_in(client, make_staff)
    saved = post_form(client, EDITOR, {"subject": "Hi", "body": source})
    assert saved.status_code == 422
    assert words in page(saved)
    preview = client.post(f"{EDITOR}/preview", data={"csrf_token": csrf_token(client, EDITOR), "subject": "Hi",
                                                     "body": source})
    assert preview.status_code == 200 and "Fix the template" in page(preview)
    assert in_db(app, lambda s: s.scalar(select(MessageTemplate.id))) is None


def test_saving_and_resetting_a_template_is_used_for_messages_and_audited(client, app, make_staff):
    signed_in(client, make_staff)
    saved = post_form(client, EDITOR, {"subject": "Cake for {{ name }}",
                                       "body": "{{ points|number }} points, {{ name }}!"})
    assert saved.status_code == 302
    text = in_db(app, lambda s: wording.template_for(s, "birthday", "en"))
    assert text.subject == "Cake for {{ name }}"
    assert in_db(app, lambda s: wording.template_for(s, "birthday", "fa")) == default_text("birthday", "fa")
    assert "edited" in page(client.get(LIST))
    reset = post_form(client, f"{EDITOR}/reset", {}, form_url=EDITOR)
    assert reset.status_code == 302
    assert in_db(app, lambda s: wording.template_for(s, "birthday", "en")) == default_text("birthday", "en")
    actions = in_db(app, lambda s: [(a.action, a.object_id, (a.after or {}).get("subject"))
                                    for a in s.scalars(select(AuditLog).where(AuditLog.action.like("messages.%"))
                                                       .order_by(AuditLog.id))])
    assert actions == [("messages.template_save", "birthday:en", "Cake for {{ name }}"),
                       ("messages.template_reset", "birthday:en", default_text("birthday", "en").subject)]


def test_channel_switches_are_saved_audited_and_keep_the_inbox_where_it_is_the_only_record(client, app, make_staff):
    signed_in(client, make_staff, "marketer")
    answer = post_form(client, "/admin/messages/templates/win_back/channels", {"channels": ["inbox", "push"]},
                       form_url=LIST)
    assert answer.status_code == 302
    assert in_db(app, lambda s: catalog.channels_for(s, "win_back")) == ("inbox", "push")
    post_form(client, "/admin/messages/templates/campaign/channels", {"channels": ["email"]}, form_url=LIST)
    assert in_db(app, lambda s: catalog.channels_for(s, "campaign")) == ("inbox", "email")
    off = post_form(client, "/admin/messages/templates/birthday/channels", {}, form_url=LIST)
    assert off.status_code == 302
    assert in_db(app, lambda s: catalog.channels_for(s, "birthday")) == ()
    refused = post_form(client, "/admin/messages/templates/sign_in_code/channels", {"channels": []}, form_url=LIST)
    assert refused.status_code == 302 and in_db(app, lambda s: catalog.channels_for(s, "sign_in_code")) == ("sms",)
    audited = in_db(app, lambda s: [(a.object_id, a.after["channels"]) for a in s.scalars(
        select(AuditLog).where(AuditLog.action == "messages.channels").order_by(AuditLog.id))])
    assert audited == [("win_back", ["inbox", "push"]), ("campaign", ["inbox", "email"]), ("birthday", [])]


def test_an_auditor_reads_but_cannot_change_and_an_operator_is_turned_away(client, app, make_staff):
    signed_in(client, make_staff, "auditor")
    assert client.get(LIST).status_code == 200
    body = page(client.get(EDITOR))
    assert "Save template" not in body and default_text("birthday", "en").subject in body
    token = csrf_token(client, LIST)
    assert client.post(EDITOR, data={"csrf_token": token, "subject": "x", "body": "y"}).status_code == 403
    assert client.post(f"{EDITOR}/preview", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/messages/templates/birthday/channels", data={"csrf_token": token}).status_code == 403
    assert client.post(f"{EDITOR}/reset", data={"csrf_token": token}).status_code == 403
    client.post("/admin/logout", data={"csrf_token": token})
    signed_in(client, make_staff, "operator")
    assert client.get(LIST).status_code == 403
    assert client.get(EDITOR).status_code == 403
    assert in_db(app, lambda s: s.scalar(select(MessageTemplate.id))) is None


def test_an_unknown_kind_or_language_is_not_found(client, make_staff):
    signed_in(client, make_staff)
    assert client.get("/admin/messages/templates/nope/en").status_code == 404
    assert client.get("/admin/messages/templates/birthday/de").status_code == 404


def test_every_kind_opens_in_both_languages_with_a_working_preview(client, make_staff):
    signed_in(client, make_staff)
    for kind in catalog.KINDS:
        for locale in ("fa", "en"):
            answer = client.get(f"/admin/messages/templates/{kind}/{locale}")
            assert answer.status_code == 200, (kind, locale)
            assert 'class="preview-subject"' in answer.get_data(as_text=True), (kind, locale)


def test_the_preview_button_works_without_javascript_and_saves_nothing(client, app, make_staff):
    signed_in(client, make_staff)
    answer = post_form(client, EDITOR, {"subject": "Hi {{ name }}", "body": "Gift: {{ points|number }}",
                                        "preview": "1"})
    assert answer.status_code == 200
    assert "Gift: 200" in page(answer)
    assert in_db(app, lambda s: s.scalar(select(MessageTemplate.id))) is None
