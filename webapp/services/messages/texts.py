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
                   "تا {{ minutes|number }} دقیقه از این پیوند رمز تازه بگذارید: {{ link }}\n"
                   "اگر شما نبودید، این پیام را نادیده بگیرید."),
    },
    # -- transactional ---------------------------------------------------------
    "welcome": {
        "en": Text("Welcome to {{ club }}", "Hello {{ name }}, welcome to {{ club }}! Every purchase now "
                   "earns you points for rewards. See your card and points here: {{ link }}"),
        "fa": Text("به {{ club }} خوش آمدید", "{{ name }} عزیز، به {{ club }} خوش آمدید! از این پس با هر خرید "
                   "امتیاز می‌گیرید و می‌توانید آن را با جایزه عوض کنید. کارت و امتیازهایتان: {{ link }}"),
    },
    "purchase_receipt": {
        "en": Text("Your purchase of {{ amount|money }}", "Thank you, {{ name }}! Your purchase of "
                   "{{ amount|money }} earned {{ points|number }} points. Your balance is now "
                   "{{ balance|number }} points. {{ link }}"),
        "fa": Text("خرید {{ amount|money }} شما", "{{ name }} عزیز، از خریدتان سپاسگزاریم! خرید "
                   "{{ amount|money }} برایتان {{ points|number }} امتیاز آورد و موجودی شما اکنون "
                   "{{ balance|number }} امتیاز است. {{ link }}"),
    },
    "reward_redeemed": {
        "en": Text("Your reward: {{ reward }}", "{{ name }}, you got {{ reward }}"
                   "{% if points %} for {{ points|number }} points{% endif %}. Your coupon code is "
                   "{{ coupon }}: show it at the counter. Your coupons: {{ link }}"),
        "fa": Text("جایزهٔ شما: {{ reward }}", "{{ name }} عزیز، {{ reward }} را"
                   "{% if points %} با {{ points|number }} امتیاز{% endif %} گرفتید. کد کوپن شما "
                   "{{ coupon }} است؛ آن را هنگام خرید نشان دهید. کوپن‌های شما: {{ link }}"),
    },
    "credit_converted": {
        "en": Text("Points turned into store credit", "{{ name }}, {{ points|number }} points became "
                   "{{ credit|money }} of store credit in your wallet."),
        "fa": Text("امتیاز به اعتبار خرید تبدیل شد", "{{ name }} عزیز، {{ points|number }} امتیاز شما به "
                   "{{ credit|money }} اعتبار خرید در کیف پولتان تبدیل شد."),
    },
    "instant_win": {
        "en": Text("You won in {{ game }}!", "Congratulations {{ name }}! You won {{ prize }} in {{ game }}. "
                   "{{ link }}"),
        "fa": Text("در {{ game }} برنده شدید!", "{{ name }} عزیز، تبریک! در {{ game }} برندهٔ {{ prize }} "
                   "شدید. {{ link }}"),
    },
    "feedback_reply": {
        "en": Text("{{ club }} answered you", "{{ name }}, the club answered your message: "
                   "“{{ excerpt }}” Read and reply: {{ link }}"),
        "fa": Text("پاسخ {{ club }} به پیام شما", "{{ name }} عزیز، باشگاه به پیام شما پاسخ داد: "
                   "«{{ excerpt }}» خواندن و پاسخ: {{ link }}"),
    },
    # -- notices -----------------------------------------------------------------
    "tier_upgrade": {
        "en": Text("You are now {{ tier }}", "Congratulations {{ name }}! You have reached the {{ tier }} "
                   "level at {{ club }}, with its own benefits. See them here: {{ link }}"),
        "fa": Text("به سطح {{ tier }} رسیدید", "{{ name }} عزیز، تبریک! به سطح {{ tier }} در {{ club }} "
                   "رسیدید و مزایای تازه‌ای دارید. مزایا را اینجا ببینید: {{ link }}"),
    },
    "tier_at_risk": {
        "en": Text("Keep your {{ tier }} level", "{{ name }}, to keep your {{ tier }} level you need "
                   "{{ keep_needed|number }} more by {{ keep_by|date }}. {{ link }}"),
        "fa": Text("سطح {{ tier }} خود را حفظ کنید", "{{ name }} عزیز، برای ماندن در سطح {{ tier }} تا "
                   "{{ keep_by|date }} به {{ keep_needed|number }} دیگر نیاز دارید. {{ link }}"),
    },
    "tier_downgrade": {
        "en": Text("Your level is now {{ tier }}", "{{ name }}, your level at {{ club }} is now {{ tier }}"
                   "{% if old_tier %} (it was {{ old_tier }}){% endif %}. Every purchase brings you closer "
                   "to the next level: {{ link }}"),
        "fa": Text("سطح شما اکنون {{ tier }} است", "{{ name }} عزیز، سطح شما در {{ club }} اکنون {{ tier }} است"
                   "{% if old_tier %} (پیش‌تر {{ old_tier }}){% endif %}. هر خرید شما را به سطح بعد نزدیک‌تر "
                   "می‌کند: {{ link }}"),
    },
    "points_expiring": {
        "en": Text("{{ points|number }} points expire soon", "{{ name }}, {{ points|number }} of your points "
                   "expire on {{ expires_at|date }}, in {{ days|number }} days. Use them for a reward: {{ link }}"),
        "fa": Text("{{ points|number }} امتیاز شما به‌زودی منقضی می‌شود", "{{ name }} عزیز، "
                   "{{ points|number }} امتیاز شما در {{ expires_at|date }} (تا {{ days|number }} روز دیگر) "
                   "منقضی می‌شود. پیش از آن جایزه بگیرید: {{ link }}"),
    },
    "raffle_won": {
        "en": Text("You are a winner in {{ raffle }}!", "Congratulations {{ name }}! You won {{ prize }} "
                   "in {{ raffle }}. {{ link }}"),
        "fa": Text("در {{ raffle }} برنده شدید!", "{{ name }} عزیز، تبریک! در {{ raffle }} "
                   "برندهٔ {{ prize }} شدید. {{ link }}"),
    },
    "contest_result": {
        "en": Text("Your result in {{ contest }}", "{{ name }}, you finished number {{ rank|number }} of "
                   "{{ entrants|number }} in {{ contest }} with a score of {{ score|number }}. {{ link }}"),
        "fa": Text("نتیجهٔ شما در {{ contest }}", "{{ name }} عزیز، در {{ contest }} با امتیاز "
                   "{{ score|number }} رتبهٔ {{ rank|number }} را از میان {{ entrants|number }} شرکت‌کننده "
                   "گرفتید. {{ link }}"),
    },
    "referral_qualified": {
        "en": Text("Your friend joined in", "{{ name }}, {{ friend or 'your friend' }} made a first purchase "
                   "with your invitation.{% if kind == 'points' %} You earned {{ amount|number }} points."
                   "{% elif kind == 'credit' %} You received {{ amount|money }} of store credit."
                   "{% elif kind == 'reward' %} A reward coupon is waiting for you.{% endif %} {{ link }}"),
        "fa": Text("دوستتان به باشگاه پیوست", "{{ name }} عزیز، {{ friend or 'دوست شما' }} با دعوت شما "
                   "نخستین خریدش را انجام داد.{% if kind == 'points' %} {{ amount|number }} امتیاز گرفتید."
                   "{% elif kind == 'credit' %} {{ amount|money }} اعتبار خرید گرفتید."
                   "{% elif kind == 'reward' %} یک کوپن جایزه منتظر شماست.{% endif %} {{ link }}"),
    },
    "referral_welcome": {
        "en": Text("A welcome gift from {{ club }}", "{{ name }}, thank you for your first purchase!"
                   "{% if kind == 'points' %} As a friend invited to {{ club }} you earned "
                   "{{ amount|number }} points.{% elif kind == 'credit' %} As a friend invited to {{ club }} "
                   "you received {{ amount|money }} of store credit.{% elif kind == 'reward' %} A welcome "
                   "reward coupon is waiting for you.{% endif %} {{ link }}"),
        "fa": Text("هدیهٔ خوشامد {{ club }}", "{{ name }} عزیز، از نخستین خریدتان سپاسگزاریم!"
                   "{% if kind == 'points' %} به‌عنوان دوست دعوت‌شده {{ amount|number }} امتیاز گرفتید."
                   "{% elif kind == 'credit' %} به‌عنوان دوست دعوت‌شده {{ amount|money }} اعتبار خرید "
                   "گرفتید.{% elif kind == 'reward' %} یک کوپن جایزهٔ خوشامد منتظر شماست.{% endif %} {{ link }}"),
    },
    "referral_reversed": {
        "en": Text("An invitation gift was taken back", "{{ name }}, the purchase that qualified your "
                   "friend's invitation was returned, so its gift was taken back. {{ link }}"),
        "fa": Text("هدیهٔ دعوت پس گرفته شد", "{{ name }} عزیز، خریدی که دعوت دوستتان را به نتیجه رسانده "
                   "بود مرجوع شد و هدیهٔ آن پس گرفته شد. {{ link }}"),
    },
    "referral_board_prize": {
        "en": Text("Number {{ place|number }} on the invitation board", "Congratulations {{ name }}! "
                   "You placed number {{ place|number }} among this month's top inviters."
                   "{% if kind == 'points' %} You earned {{ amount|number }} points.{% elif kind == 'credit' %}"
                   " You received {{ amount|money }} of store credit.{% elif kind == 'reward' %} A reward "
                   "coupon is waiting for you.{% endif %} {{ link }}"),
        "fa": Text("رتبهٔ {{ place|number }} در جدول دعوت‌ها", "{{ name }} عزیز، تبریک! در میان "
                   "دعوت‌کنندگان برتر این ماه رتبهٔ {{ place|number }} را گرفتید."
                   "{% if kind == 'points' %} {{ amount|number }} امتیاز گرفتید.{% elif kind == 'credit' %}"
                   " {{ amount|money }} اعتبار خرید گرفتید.{% elif kind == 'reward' %} یک کوپن جایزه منتظر "
                   "شماست.{% endif %} {{ link }}"),
    },
    "challenge_completed": {
        "en": Text("Challenge completed: {{ challenge }}", "Well done {{ name }}! You completed "
                   "{{ challenge }}{% if points %} and earned {{ points|number }} points{% endif %}. {{ link }}"),
        "fa": Text("چالش {{ challenge }} را به پایان رساندید", "{{ name }} عزیز، آفرین! چالش {{ challenge }} "
                   "را به پایان رساندید{% if points %} و {{ points|number }} امتیاز گرفتید{% endif %}. {{ link }}"),
    },
    "fee_rebate": {
        "en": Text("Points back for your level", "{{ name }}, your level gave you {{ points|number }} points "
                   "back for your purchases on {{ day|date }}."),
        "fa": Text("امتیاز بازگشتی سطح شما", "{{ name }} عزیز، سطح شما برای خریدهای {{ day|date }} "
                   "{{ points|number }} امتیاز به شما برگرداند."),
    },
    "survey": {
        "en": Text("A quick question from {{ club }}", "Hello {{ name }}, {{ question }}\n"
                   "Answer in one tap: {{ link }}"),
        "fa": Text("یک پرسش کوتاه از {{ club }}", "{{ name }} عزیز، {{ question }}\n"
                   "با یک لمس پاسخ دهید: {{ link }}"),
    },
    # -- marketing ---------------------------------------------------------------
    "birthday": {
        "en": Text("Happy birthday, {{ name }}!", "Happy birthday, {{ name }}! {{ club }} wishes you a "
                   "wonderful year{% if points %}, and has added {{ points|number }} points to your "
                   "card as a gift{% endif %}. {{ link }}"),
        "fa": Text("تولدتان مبارک، {{ name }}!", "{{ name }} عزیز، تولدتان مبارک! {{ club }} سالی پر از شادی "
                   "برایتان آرزو می‌کند{% if points %} و {{ points|number }} امتیاز هدیه به کارت شما "
                   "افزود{% endif %}. {{ link }}"),
    },
    "win_back": {
        "en": Text("We miss you at {{ club }}", "{{ name }}, it has been more than {{ days|number }} days "
                   "since your last purchase and we miss you."
                   "{% if points %} We added {{ points|number }} bonus points to your card."
                   "{% elif reward %} Come back for {{ reward }}, waiting for you in the rewards.{% endif %}"
                   " {{ link }}"),
        "fa": Text("دلمان برایتان تنگ شده", "{{ name }} عزیز، بیش از {{ days|number }} روز از آخرین خرید "
                   "شما می‌گذرد و دلمان برایتان تنگ شده است."
                   "{% if points %} {{ points|number }} امتیاز هدیه به کارت شما افزودیم."
                   "{% elif reward %} {{ reward }} در میان جایزه‌ها منتظر شماست.{% endif %} {{ link }}"),
    },
    "campaign": {
        "en": Text("A message from {{ club }}", "{{ message }}{% if points %} You earned "
                   "{{ points|number }} points.{% endif %}"),
        "fa": Text("پیامی از {{ club }}", "{{ message }}{% if points %} {{ points|number }} امتیاز "
                   "گرفتید.{% endif %}"),
    },
    "broadcast": {
        "en": Text("{{ subject }}", "{{ body }}"),
        "fa": Text("{{ subject }}", "{{ body }}"),
    },
}

def default_text(kind: str, locale: str) -> Text:
    texts = DEFAULTS.get(kind) or GENERIC
    return texts.get(locale) or texts.get("en") or GENERIC["en"]
