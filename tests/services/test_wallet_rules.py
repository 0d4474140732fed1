"""The conversion rule as a pure function: what a member gets, what is used,
and the first reason a conversion is refused."""

from __future__ import annotations

import pytest

from webapp.services.ledger.wallet import (
    BELOW_MINIMUM,
    DISABLED,
    NOT_WHOLE_STEP,
    OVER_BALANCE,
    OVER_DAILY_CAP,
    WalletSettings,
    check_settings,
    preview_conversion,
)

ON = WalletSettings(enabled=True, points_per_step=100, credit_per_step=10_000, min_points=200,
                    daily_cap_points=1_000)


def preview(points, *, balance=5_000, today=0, settings=ON):
    return preview_conversion(settings, points, balance=balance, converted_today=today)


def test_whole_steps_convert_at_the_rate():
    result = preview(300)
    assert result.allowed and result.refusal is None
    assert (result.points, result.credit) == (300, 30_000)
    assert (result.available, result.cap_left, result.suggested) == (1_000, 1_000, 0)


def test_points_are_rounded_down_to_whole_steps_and_the_exact_amount_is_refused():
    result = preview(399)
    assert result.refusal == NOT_WHOLE_STEP
    assert (result.points, result.credit) == (300, 30_000)
    assert (result.suggested, result.suggested_credit) == (300, 30_000)


def test_disabled_refuses_everything_and_offers_nothing():
    off = WalletSettings()
    assert off.enabled is False
    result = preview(300, settings=off)
    assert result.refusal == DISABLED
    assert (result.available, result.suggested) == (0, 0)


@pytest.mark.parametrize("points", [0, -100, 100, 199])
def test_below_the_minimum_is_refused(points):
    result = preview(points)
    assert result.refusal == BELOW_MINIMUM
    assert result.suggested == 0


def test_more_than_the_balance_is_refused_and_the_balance_suggested():
    result = preview(900, balance=450)
    assert result.refusal == OVER_BALANCE
    assert (result.available, result.suggested, result.suggested_credit) == (400, 400, 40_000)


def test_a_balance_below_the_minimum_leaves_nothing_available():
    result = preview(200, balance=150)
    assert result.refusal == OVER_BALANCE
    assert (result.available, result.suggested) == (0, 0)


def test_over_the_daily_cap_is_refused_and_what_is_left_suggested():
    result = preview(800, today=500)
    assert result.refusal == OVER_DAILY_CAP
    assert result.cap_left == 500
    assert (result.available, result.suggested) == (500, 500)


def test_the_cap_exactly_reached_converts_and_then_nothing_is_left():
    assert preview(500, today=500).allowed
    spent = preview(200, today=1_000)
    assert spent.refusal == OVER_DAILY_CAP
    assert (spent.cap_left, spent.available, spent.suggested) == (0, 0, 0)


def test_no_cap_means_only_the_balance_limits():
    uncapped = WalletSettings(enabled=True, points_per_step=50, credit_per_step=1, min_points=50)
    result = preview(10_000, balance=10_000, today=99_999, settings=uncapped)
    assert result.allowed and result.cap_left is None
    assert (result.points, result.credit, result.available) == (10_000, 200, 10_000)


def test_refusals_are_checked_in_a_fixed_order():
    # below the minimum and not a whole step and over the balance: the minimum is named
    assert preview(150, balance=100).refusal == BELOW_MINIMUM
    # not a whole step and over the balance: the step is named
    assert preview(250, balance=100).refusal == NOT_WHOLE_STEP
    # over the balance and over the cap: the balance is named
    assert preview(2_000, balance=1_500, today=0).refusal == OVER_BALANCE


def test_preview_refuses_non_integers():
    with pytest.raises(ValueError):
        preview(True)
    with pytest.raises(ValueError):
        preview(10**9 + 1)


def test_settings_validation_names_every_bad_field():
    assert check_settings(ON) == {}
    assert check_settings(WalletSettings()) == {}
    problems = check_settings(WalletSettings(points_per_step=0, credit_per_step=-1, min_points=0,
                                             daily_cap_points=-5))
    assert set(problems) == {"points_per_step", "credit_per_step", "min_points", "daily_cap_points"}
    assert "min_points" in check_settings(WalletSettings(points_per_step=100, min_points=150))
    assert "daily_cap_points" in check_settings(WalletSettings(min_points=200, daily_cap_points=100))
    assert "enabled" in check_settings(WalletSettings(enabled="yes"))
    assert "points_per_step" in check_settings(WalletSettings(points_per_step=True))
    assert check_settings(WalletSettings(min_points=300, daily_cap_points=0)) == {}
