"""What each code a service refuses with says to staff (webapp/problems.py puts
it on the form). One entry per code; a code with no entry reads as "This value
is not valid." — enough where the form's own validators already explain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.services.offers import campaigns

_PRIZE = _l("A prize is not valid: check the prizes.")
_CLOSE = _l("The close must be after the opening (and not too far).")
_POINTS = _l("Between 0 and 10,000,000 points.")
_QUESTIONS = _l("Add at least one question (at most 20).")

WORDS = {
    # -- domain errors (exc.code) --------------------------------------------------------
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
    "code_taken": _l("This code is already a member's or a marketer's invite code. Choose another."),
    "marketer_email_taken": _l("A marketer with this e-mail already exists."),
    "marketer_email_is_member": _l("This e-mail belongs to a member: choose “Promote a member” instead."),
    "marketer_member_unknown": _l("No member has this e-mail or mobile number."),
    "already_marketer": _l("This member is already a marketer."),
    "marketer_not_member": _l("Only a marketer who is a member can be paid in store credit."),
    "payout_invalid": _l("Enter an amount above zero and a reference."),
    "insufficient_balance": _l("That is more than the marketer's balance: nothing was paid."),
    "segment_name_taken": _l("Another segment already has this name."),
    "segment_archived": _l("This segment is archived; it can no longer be changed."),
    # -- shared problems -----------------------------------------------------------------
    "names_required": _l("Give the Persian and the English name."),
    "reward_choice": _l("Choose a reward from the catalog."),
    "amount_min_1": _l("Give an amount of at least 1."),
    "last_day_before_first": _l("The last day cannot be before the first day."),
    "tier_gone": _l("That level no longer exists."),
    "segment_gone": _l("That segment no longer exists."),
    "reward_gone": _l("That reward no longer exists."),
    # -- rewards -------------------------------------------------------------------------
    "unknown_kind": _l("Choose a kind."),
    "unknown_status": _l("Choose a status."),
    "cost_range": _l("Cost must be between 0 and 100,000,000 points."),
    "percent_range": _l("A percent discount is more than 0 and at most 100%."),
    "value_positive": _l("The value must be positive."),
    "sku_required": _l("A free product needs its SKU."),
    "stock_negative": _l("Stock cannot be negative."),
    "member_limit_range": _l("The limit per member is at least 1 (or empty: no limit)."),
    "valid_days_range": _l("Coupons are valid for at least 1 day (or empty: until used)."),
    "ends_before_start": _l("The end must be after the start."),
    "kind_locked": _l("The kind cannot change once coupons were issued."),
    "codes_not_voucher": _l("Only partner vouchers take uploaded codes."),
    "too_many_codes": _l("At most %(n)s codes per upload."),
    # -- referral settings ---------------------------------------------------------------
    "qualify_on_choice": _l("Choose on joining or on the first purchase."),
    "min_purchase_range": _l("Zero or more, up to 10,000,000,000,000."),
    "days_1_365": _l("Between 1 and 365 days."),
    "referrer_kind_choice": _l("Choose what the referrer gets."),
    "friend_kind_choice": _l("Choose what the friend gets."),
    "board_kind_choice": _l("Choose the board's prize."),
    "monthly_cap_range": _l("Between 0 (no cap) and 10,000."),
    "range_1_10000": _l("Between 1 and 10,000."),
    "range_1_100": _l("Between 1 and 100."),
    "text_10000": _l("At most 10,000 characters."),
    # -- wallet settings -----------------------------------------------------------------
    "on_off": _l("Choose on or off."),
    "step_points_range": _l("Between 1 and 1,000,000,000 points."),
    "step_credit_range": _l("Between 1 and 1,000,000,000."),
    "min_points_steps": _l("At least one step: a whole multiple of the points per step, up to 1,000,000,000."),
    "daily_cap_range": _l("0 (no cap), or at least the minimum, up to 1,000,000,000."),
    # -- earn rules ----------------------------------------------------------------------
    "unknown_trigger": _l("Choose a trigger."),
    "trigger_needs_purchase": _l("Amount, item, channel, store and first-purchase conditions need the purchase "
                                 "trigger."),
    "rule_names": _l("Give the rule a name in both languages."),
    "unknown_effect": _l("Choose an effect."),
    "effect_needs_purchase": _l("Only purchases have an amount: other triggers give fixed points."),
    "rule_percent_range": _l("A percent above 0, at most 100."),
    "rule_points_range": _l("Points from 1 to 10,000,000."),
    "money_step_min": _l("The money step must be at least 1."),
    "hour_window": _l("Give both ends of the hour window (0–24), and not the same hour."),
    "unknown_weekday": _l("Choose weekdays from the list."),
    "list_too_long": _l("At most 50."),
    "cap_incomplete": _l("A cap needs at least 1 point and a period."),
    "rule_budget_low": _l("The budget must be at least 1 and not below what the rule has already given."),
    "rule_last_day": _l("The last day must not be before the first day."),
    "streak_bonuses": _l("Streak bonuses belong to check-in rules; days and points of at least 1."),
    # -- campaigns -----------------------------------------------------------------------
    "campaign_name": _l("Give the campaign a name of 1 to %(n)s characters.", n=campaigns.MAX_NAME),
    "campaign_kind": _l("Choose what the campaign gives."),
    "segment_choice": _l("Choose an existing segment."),
    "campaign_end_before_start": _l("The end must come after the start."),
    "campaign_too_long": _l("A campaign lasts at most %(n)s days.", n=campaigns.MAX_DAYS),
    "campaign_end_passed": _l("The end has already passed: move it later."),
    "control_percent_range": _l("Between 0 and %(n)s percent.", n=campaigns.MAX_CONTROL_PERCENT),
    "campaign_budget": _l("A positive budget, or leave it empty for none."),
    "message_too_long": _l("At most %(n)s characters.", n=campaigns.MAX_MESSAGE),
    "message_both_languages": _l("Write the message in both languages."),
    "bonus_points_range": _l("Between 1 and 10,000,000 points."),
    "budget_below_bonus": _l("The budget must cover at least one member's bonus."),
    "bonus_needs_message": _l("A bonus comes with a message: write it in both languages."),
    "offer_cost_range": _l("Zero or more points."),
    "offer_cost_above_price": _l("At most the reward's catalog price."),
    "earn_rule_choice": _l("Choose a draft earn rule no other campaign uses."),
    # -- challenges ----------------------------------------------------------------------
    "deal_required": _l("Give the deal: an earn multiplier, points or a reward (or more)."),
    # -- raffles ------------------------------------------------------------------------
    "raffle_prizes_required": _PRIZE,
    "raffle_prize_lines": _PRIZE,
    "raffle_winners": _PRIZE,
    "raffle_prize_name": _PRIZE,
    "raffle_prize_quantity": _PRIZE,
    "raffle_prize_kind": _PRIZE,
    "raffle_prize_amount": _PRIZE,
    "raffle_prize_reward": _PRIZE,
    # -- instant win ---------------------------------------------------------------------
    "odds_total": _l("The odds of all prizes add up to more than 100%."),
    "prizes_required": _l("Give at least one prize."),
    "budget_below_given": _l("The budget cannot be less than the points already given."),
    # -- contests ------------------------------------------------------------------------
    "close_after_open": _CLOSE,
    "close_too_far": _CLOSE,
    "points_0_10m": _POINTS,
    "contest_prizes": _l("Prize ranges must not overlap, and each needs its amount or an existing reward."),
    "contest_settings": _l("Check the question: options in both languages, and the closest rule only "
                           "with numbers (its points below the exact points)."),
    "questions_required": _QUESTIONS,
    "too_many_questions": _QUESTIONS,
    "question_text": _l("Give the question in Persian and in English."),
    "question_options": _l("Give 2 to 6 options, each in Persian and in English."),
    "correct_option": _l("The correct option must be one of the options given."),
    "time_limit_range": _l("Between 3 and 120 seconds."),
    "result_impossible": _l("The result is not a possible answer."),
    # -- marketers -----------------------------------------------------------------------
    "marketer_code_format": _l("4 to 16 letters and digits, without 0, O, 1, I or L (they are misread)."),
    "marketer_name": _l("Give a name of up to 80 characters."),
    "commission_amount_range": _l("Between 0 and 10,000,000,000."),
    "commission_percent_range": _l("Between 0 and 100 percent."),
    "note_too_long": _l("Keep the note under 300 characters."),
    # -- tier program --------------------------------------------------------------------
    "unknown_metric": _l("Choose what members qualify by."),
    "unknown_window": _l("Choose how the metric is counted."),
    "window_days_range": _l("Between 1 and 3650 days."),
    "calendar_period_choice": _l("Choose month, quarter or year."),
    "calendar_system_choice": _l("Choose Jalali or Gregorian."),
    "grace_days_range": _l("Between 0 and 365 days."),
    "no_levels": _l("The program needs at least one level."),
    "level_ranks": _l("Levels must be numbered 0, 1, 2 … with no gaps."),
    "entry_threshold": _l("Exactly one entry level, the first, must have threshold 0."),
    "threshold_not_above": _l("Must be above the level before it (%(threshold)s)."),
    "level_codes": _l("Every level needs its own code."),
    "multiplier_range": _l("Between 0 and 10."),
    # -- segments ------------------------------------------------------------------------
    "bounds": _l("The maximum is below the minimum."),
    "joined_order": _l("The “on or after” date must come before the “before” date."),
    "never_purchased_conflict": _l("Choose either “never purchased” or a number of days since the last "
                                   "purchase."),
    "segment_name": _l("A name of 1 to 80 characters."),
    "unknown_field": _l("Unknown condition."),
    "unknown_op": _l("Unknown comparison."),
    "number": _l("A whole number from %(low)s to %(high)s."),
    "days": _l("A window of %(low)s to %(high)s days."),
    "choices": _l("Choose at least one of the options."),
    "date": _l("A date as YYYY-MM-DD."),
    "shape": _l("Conditions are a list of objects."),
    "too_many": _l("At most %(n)s conditions."),
    "repeated": _l("The same condition twice."),
}
