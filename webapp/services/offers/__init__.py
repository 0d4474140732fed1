"""The offers domain: what staff design to make members earn and spend.

`earn_rules` (which events earn what) evaluated by the pure `rule_engine`;
`segments` (audiences as conditions); `rewards` (the catalog and redemptions)
with `coupons`; `campaigns` (targeted bonus offers with a control group);
`challenges` (goals over a period) and `checkin` (daily check-in streaks)."""
