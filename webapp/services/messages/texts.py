"""The default wording of each message kind, per locale: a subject (e-mail, push
title) and a body (e-mail text, SMS, push, and what the templates editor starts
from). Jinja in a sandbox: `{{ name }}`, `{{ points|number }}`, `{{ expires_at|date }}`.
Staff override them (`templates.template_for`); the inbox words its own rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


GENERIC = {
    "en": Text("News from {{ club }}", "Hello {{ name }}, there is news for you in your club inbox."),
    "fa": Text("خبری از {{ club }}", "{{ name }} عزیز، پیام تازه‌ای در صندوق پیام باشگاه دارید."),
}

DEFAULTS: dict[str, dict[str, Text]] = {
    "sign_in_code": {
        "en": Text("Your sign-in code", "{{ club }}: your sign-in code is {{ code }}. "
                   "It is valid for {{ minutes }} minutes. Do not share it."),
        # one SMS: a Persian SMS holds 70 characters (UCS-2)
        "fa": Text("کد ورود", "{{ club }}: کد ورود {{ code }} — {{ minutes }} دقیقه اعتبار دارد. به کسی ندهید."),
    },
    "password_reset_code": {
        "en": Text("Your password reset code", "{{ club }}: your password reset code is {{ code }}. "
                   "It is valid for {{ minutes }} minutes."),
        "fa": Text("کد بازیابی رمز", "{{ club }}: کد بازیابی رمز {{ code }} — {{ minutes }} دقیقه اعتبار دارد."),
    },
    "password_reset": {
        "en": Text("Reset your password", "Hello {{ name }}, someone asked to reset your password at "
                   "{{ club }}. Choose a new one here within {{ minutes }} minutes: {{ link }}\n"
                   "If it was not you, ignore this message."),
        "fa": Text("بازیابی رمز عبور", "{{ name }} عزیز، درخواست بازیابی رمز عبور در {{ club }} ثبت شد. "
                   "تا {{ minutes }} دقیقه از این پیوند رمز تازه بگذارید: {{ link }}\n"
                   "اگر شما نبودید، این پیام را نادیده بگیرید."),
    },
}

# surveys (services/surveys): the question in the member's language and the link
# that answers it; kept if an entry for the kind is already above
DEFAULTS.setdefault("survey", {
    "en": Text("A quick question from {{ club }}", "Hello {{ name }}, {{ question_en }}\n"
               "Answer in one tap: {{ link }}"),
    "fa": Text("یک پرسش کوتاه از {{ club }}", "{{ name }} عزیز، {{ question_fa }}\n"
               "با یک لمس پاسخ دهید: {{ link }}"),
})


def default_text(kind: str, locale: str) -> Text:
    texts = DEFAULTS.get(kind) or GENERIC
    return texts.get(locale) or texts.get("en") or GENERIC["en"]
