"""The offers domain: what staff design to make members earn and spend.

`earn_rules` (which events earn what) evaluated by the pure `rule_engine`;
`segments` (audiences as conditions, with `segment_birthdays` for Jalali months);
`rewards` (the catalog and redemptions) with `reward_errors`, `coupons` (codes)
and `voucher_codes` (partner codes); `campaigns` (targeted bonus offers with a
control group) and `campaign_report`; `challenges` (goals over a period) and
`checkin` (daily check-in streaks)."""
