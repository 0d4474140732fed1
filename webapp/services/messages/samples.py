"""Made-up params for each message kind, shaped like what its cause stores
(bilingual pairs included): the templates editor previews with them and the
tests render every default with them."""

from __future__ import annotations

_GIFT = {"kind": "points", "amount": 500, "issued": True}

SAMPLES: dict[str, dict] = {
    "sign_in_code": {"code": "482913", "minutes": 10},
    "password_reset": {"link": "https://club.example/password/reset/sample", "minutes": 30},
    "password_reset_code": {"code": "482913", "minutes": 10},
    "welcome": {"path": "/me"},
    "purchase_receipt": {"purchase_id": 1, "amount": 1_250_000, "points": 125, "balance": 2_340,
                         "path": "/me/activity"},
    "reward_redeemed": {"coupon_id": 1, "reward_id": 1, "reward_fa": "قهوهٔ رایگان", "reward_en": "A free coffee",
                        "coupon": "VF-7KQ2-M9XD", "points": 300, "path": "/me/coupons"},
    "credit_converted": {"points": 1_000, "credit": 100_000},
    "instant_win": {"game_id": 1, "play_id": 1, "name_fa": "گردونهٔ شانس", "name_en": "Lucky wheel",
                    "prize_fa": "۵۰ امتیاز", "prize_en": "50 points", "kind": "points", "value": 50},
    "feedback_reply": {"thread_id": 1, "excerpt": "Thank you, your order is on its way."},
    "tier_upgrade": {"from": "silver", "to": "gold", "tier_name_fa": "طلایی", "tier_name_en": "Gold",
                     "old_tier_name_fa": "نقره‌ای", "old_tier_name_en": "Silver", "path": "/me/tier"},
    "tier_at_risk": {"tier": "gold", "tier_name_fa": "طلایی", "tier_name_en": "Gold", "keep_needed": 400,
                     "keep_by": "2027-01-20", "path": "/me/tier"},
    "tier_downgrade": {"from": "gold", "to": "silver", "tier_name_fa": "نقره‌ای", "tier_name_en": "Silver",
                       "old_tier_name_fa": "طلایی", "old_tier_name_en": "Gold", "path": "/me/tier"},
    "points_expiring": {"points": 750, "expires_at": "2027-01-10T20:30:00+00:00", "days": 7,
                        "path": "/rewards"},
    "raffle_won": {"raffle_id": 1, "name_fa": "قرعه‌کشی یلدا", "name_en": "Yalda raffle",
                   "prize_fa": "سبد میوه", "prize_en": "A fruit basket", "kind": "reward", "amount": 0,
                   "coupon": True},
    "contest_result": {"contest_id": 1, "name_fa": "مسابقهٔ هفته", "name_en": "Quiz of the week", "rank": 3,
                       "score": 870, "entrants": 214, "prize_kind": "points", "prize_amount": 200,
                       "participation": 10},
    "referral_qualified": {"friend": "Mina", "capped": False, **_GIFT},
    "referral_welcome": dict(_GIFT),
    "referral_reversed": {},
    "referral_board_prize": {"month": "2026-11", "place": 2, "qualified": 9, **_GIFT},
    "challenge_completed": {"challenge_id": 1, "name_fa": "پنج خرید در ماه", "name_en": "Five visits a month",
                            "points": 250, "reward": None},
    "fee_rebate": {"points": 42, "day": "2026-12-02"},
    "survey": {"path": "/surveys/sample", "token": "sample", "survey_id": 1, "scale": "nps",
               "question_fa": "چقدر احتمال دارد ما را به دوستانتان پیشنهاد کنید؟",
               "question_en": "How likely are you to recommend us to a friend?"},
    "birthday": {"points": 200},
    "win_back": {"days": 60, "last_purchase_id": 1, "reward_id": 1, "reward_fa": "قهوهٔ رایگان",
                 "reward_en": "A free coffee", "points": 0, "path": "/rewards"},
    "campaign": {"campaign": 1, "points": 100, "fa": "جشنوارهٔ پاییزه آغاز شد!", "en": "Our autumn sale has begun!"},
    "broadcast": {"subject": "Autumn sale", "body": "Everything is 20% off this week."},
}


def sample_params(kind: str) -> dict:
    return dict(SAMPLES.get(kind, {}))
