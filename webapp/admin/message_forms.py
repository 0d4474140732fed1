"""Forms of the staff's message pages: a kind's wording per language, its
channels, and the owner's messaging settings (quiet hours, marketing cap, win-back)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.forms.fields import Between, LocalIntegerField
from webapp.models import CHANNELS
from webapp.services.messages import templates as wording
from webapp.services.messages import winback

CHANNEL_LABELS = {"inbox": _l("Inbox"), "email": _l("E-mail"), "sms": _l("SMS"), "push": _l("Push")}
CATEGORY_LABELS = {
    "essential": _l("Sign-in and password (always sent)"),
    "transactional": _l("Answers to the member's own acts"),
    "notice": _l("Notices from the club"),
    "marketing": _l("Offers (marketing: consent, quiet hours, daily cap)"),
}
KIND_LABELS = {
    "sign_in_code": _l("Sign-in code"),
    "password_reset": _l("Password reset link"),
    "password_reset_code": _l("Password reset code"),
    "welcome": _l("Welcome"),
    "purchase_receipt": _l("Purchase receipt"),
    "reward_redeemed": _l("Reward redeemed"),
    "credit_converted": _l("Points converted to credit"),
    "instant_win": _l("Instant win prize"),
    "feedback_reply": _l("Reply to feedback"),
    "tier_upgrade": _l("Tier up"),
    "tier_at_risk": _l("Tier at risk"),
    "tier_downgrade": _l("Tier down"),
    "points_expiring": _l("Points expiring (30 and 7 days)"),
    "raffle_won": _l("Raffle won"),
    "contest_result": _l("Contest result"),
    "referral_qualified": _l("Referral qualified (inviter)"),
    "referral_welcome": _l("Referral qualified (friend)"),
    "referral_reversed": _l("Referral gift taken back"),
    "referral_board_prize": _l("Referral board prize"),
    "challenge_completed": _l("Challenge completed"),
    "fee_rebate": _l("Fee rebate"),
    "survey": _l("Survey invitation"),
    "birthday": _l("Birthday"),
    "win_back": _l("Win-back"),
    "campaign": _l("Campaign message"),
    "broadcast": _l("Broadcast"),
}
LOCALE_LABELS = {"fa": _l("Persian"), "en": _l("English")}
OFFER_LABELS = {"none": _l("No offer"), "reward": _l("Point to a reward"), "points": _l("Give bonus points")}
HH_MM = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message=_l("A time like 22:00."))


class TemplateForm(FlaskForm):
    subject = StringField(_l("Subject (e-mail subject, push title)"), validators=[
        InputRequired(_l("Write a subject.")), Length(max=wording.MAX_SUBJECT)], render_kw={"dir": "auto"})
    body = TextAreaField(_l("Text (e-mail, SMS, push and inbox)"), validators=[
        InputRequired(_l("Write the text.")), Length(max=wording.MAX_BODY)],
        render_kw={"dir": "auto", "rows": 8})


class ChannelsForm(FlaskForm):
    channels = SelectMultipleField(_l("Channels"), choices=[SelectChoice(c, CHANNEL_LABELS[c]) for c in CHANNELS],
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                   validate_choice=True)


class MessagingSettingsForm(FlaskForm):
    quiet_start = StringField(_l("Quiet hours start"), validators=[InputRequired(_l("A time like 22:00.")), HH_MM],
                              render_kw={"dir": "ltr", "inputmode": "numeric", "placeholder": "22:00"})
    quiet_end = StringField(_l("Quiet hours end"), validators=[InputRequired(_l("A time like 08:00.")), HH_MM],
                            render_kw={"dir": "ltr", "inputmode": "numeric", "placeholder": "08:00"})
    daily_marketing_cap = LocalIntegerField(_l("Marketing messages per member per day (0: no cap)"), validators=[
        InputRequired(_l("Enter a number.")), Between(0, 100, message=_l("Between 0 and 100."))],
        render_kw={"dir": "ltr", "inputmode": "numeric"})
    win_back_days = LocalIntegerField(_l("Win-back after how many days without a purchase (0: off)"), validators=[
        InputRequired(_l("Enter a number.")),
        Between(0, winback.MAX_DAYS, message=_l("Between 0 (off) and 3650 days."))],
        render_kw={"dir": "ltr", "inputmode": "numeric"})
    win_back_offer = SelectField(_l("Win-back offer"), choices=[SelectChoice(k, v) for k, v in OFFER_LABELS.items()])
    win_back_reward = SelectField(_l("Reward to point to"), choices=[], validate_choice=False)
    win_back_points = LocalIntegerField(_l("Bonus points"), validators=[
        Optional(), Between(0, winback.MAX_POINTS, message=_l("Between 0 and 1,000,000."))],
        render_kw={"dir": "ltr", "inputmode": "numeric"})
