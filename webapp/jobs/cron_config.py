"""Periodic jobs for `rq cron webapp.jobs.cron_config` (or `vafa cron`).
Run exactly one cron process; the jobs are idempotent anyway."""

from rq import cron

from webapp.jobs.birthdays import award_birthdays
from webapp.jobs.broadcasts import send_due_broadcasts
from webapp.jobs.campaigns import start_due_campaigns
from webapp.jobs.contests import finalise_due_contests
from webapp.jobs.coupons import expire_coupons
from webapp.jobs.maintenance import purge_idempotency_keys
from webapp.jobs.messages import sweep_outbox
from webapp.jobs.messages_winback import send_win_back_messages
from webapp.jobs.points import expire_points
from webapp.jobs.raffles import close_and_draw_due
from webapp.jobs.referrals import award_referral_board_prizes, expire_referrals
from webapp.jobs.reminders import remind_expiring_points
from webapp.jobs.tiers import award_fee_rebates, evaluate_tiers

# tiers first (00:10 UTC, 03:40 in Tehran), then yesterday's fee rebates at the new levels
cron.register(evaluate_tiers, "default", cron="10 0 * * *", name="evaluate_tiers")
cron.register(award_fee_rebates, "default", cron="20 0 * * *", name="award_fee_rebates")
# 00:30 UTC is 04:00 in Tehran: the quietest hour
cron.register(expire_points, "default", cron="30 0 * * *", name="expire_points")
# 00:40 UTC, after the points expiry: issued coupons past their date become expired
cron.register(expire_coupons, "default", cron="40 0 * * *", name="expire_coupons")
# 00:50 UTC, after the points and coupon expiry: pending referrals past their window
cron.register(expire_referrals, "default", cron="50 0 * * *", name="expire_referrals")
# 01:00 UTC: stored API answers older than the 7 days the API promises
cron.register(purge_idempotency_keys, "low", cron="0 1 * * *", name="purge_idempotency_keys")
# 05:00 UTC is 08:30 in Tehran: reminders arrive in the morning, after the night's expiry
cron.register(remind_expiring_points, "default", cron="0 5 * * *", name="remind_expiring_points")
# 20:35 UTC is 00:05 in Tehran: the month just ended gets its referral board prize
# (daily, so a missed run is made up the next night; a settled month pays nobody)
cron.register(award_referral_board_prizes, "default", cron="35 20 * * *", name="award_referral_board_prizes")
# 21:00 UTC is 00:30 in Tehran: birthday points arrive as the member's day begins
cron.register(award_birthdays, "default", cron="0 21 * * *", name="award_birthdays")
# 06:30 UTC is 10:00 in Tehran: win-back offers arrive in the morning, outside quiet hours
cron.register(send_win_back_messages, "default", cron="30 6 * * *", name="send_win_back_messages")

# every minute: start campaigns whose time has come, end live offers past their end;
# freeze raffles past their close and enqueue draws whose time has come; finalise
# quizzes past their close and predictions with their result
cron.register(start_due_campaigns, "default", cron="* * * * *", name="start_due_campaigns")
cron.register(close_and_draw_due, "default", cron="* * * * *", name="close_and_draw_raffles")
cron.register(finalise_due_contests, "default", cron="* * * * *", name="finalise_due_contests")
# every minute: retries whose time has come, messages held through quiet hours
cron.register(sweep_outbox, "high", cron="* * * * *", name="sweep_outbox")
# every minute: broadcasts whose time has come; sending ones whose messages are all dealt with
cron.register(send_due_broadcasts, "default", cron="* * * * *", name="send_due_broadcasts")
