"""The tiers domain: the club's program of levels, each member's level, immediate
upgrades on qualifying events, staff overrides and the nightly set-based
evaluation (downgrades happen only there, after the grace).

- `rules`: the pure tier rules (levels, windows, progress), no database.
- `program`: the program in the database (load once per transaction, save).
- `metrics`: what a program counts over its window, as one grouped query.
- `progress`: a member's level, progress card and history.
- `changes`: history rows, inbox messages and immediate upgrades.
- `overrides`: staff putting a member on a level until a date.
- `preview`: how many members a changed program would move.
- `evaluation`: the nightly run.
- `club_day`: the club's time zone and local day; `sql`: shared SQL expressions.

`member.tier_id` is always the level the member holds now, a staff override
included (the override fields say whether it is one and until when), so other
code may read it directly.

Callers use the names below as `tiers.<name>` (they are used all over the
services, views and tests); everything else is imported from its module.
"""

from webapp.services.tiers import rules
from webapp.services.tiers.changes import on_points_earned, on_qualifying_event
from webapp.services.tiers.club_day import club_timezone
from webapp.services.tiers.evaluation import evaluate_all
from webapp.services.tiers.metrics import member_metrics, qualifying_metric_of
from webapp.services.tiers.overrides import (
    InvalidOverride,
    NoTierProgram,
    OverrideReasonRequired,
    OverridesNotAllowed,
    UnknownTier,
    set_override,
)
from webapp.services.tiers.preview import preview_change
from webapp.services.tiers.program import (
    TierProgramInvalid,
    default_program,
    load_program,
    save_program,
)
from webapp.services.tiers.progress import member_history, member_level, member_progress

__all__ = [
    "InvalidOverride", "NoTierProgram", "OverrideReasonRequired", "OverridesNotAllowed",
    "TierProgramInvalid", "UnknownTier", "club_timezone", "default_program", "evaluate_all",
    "load_program", "member_history", "member_level", "member_metrics", "member_progress", "qualifying_metric_of",
    "on_points_earned", "on_qualifying_event", "preview_change", "rules", "save_program",
    "set_override",
]
