"""Contests, the staff side: define a contest of any contest kind (draft), a
quiz's questions, prizes by rank range, publish it, and enter a prediction's
result (what each kind allows is its registry entry's business).
Every write is audited. Questions and the rules are fixed once anyone has
played: members agreed to them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from games import quiz as quiz_engine
from webapp.models import Contest, ContestEntry, ContestQuestion, Reward
from webapp.services.errors import Conflict, NotFound, ProblemsInvalid
from webapp.services.members import audit
from webapp.services.play import registry, timing
from webapp.services.play.prizes import PRIZE_KINDS
from webapp.services.play.quiz import question_count

MAX_NAME = 120
MAX_POINTS = 10_000_000
MAX_PRIZE_RANK = 10_000
MAX_QUESTIONS = 20
MIN_TIME_LIMIT_MS = 3_000
MAX_TIME_LIMIT_MS = 120_000


class ContestInvalid(ProblemsInvalid):
    """The contest is not valid."""

    code = "contest_invalid"


class ContestLocked(Conflict):
    """Members have played: the questions and rules are fixed."""

    code = "contest_locked"


class ContestWrongState(Conflict):
    """The contest is not in a state that allows this."""

    code = "contest_wrong_state"


@dataclass(frozen=True)
class Prize:
    rank_from: int
    rank_to: int
    kind: str  # points, credit (smallest money unit) or reward (a catalog reward)
    amount: int = 0
    reward_id: int | None = None

    def as_json(self) -> dict:
        return {"from": self.rank_from, "to": self.rank_to, "kind": self.kind, "amount": self.amount,
                "reward_id": self.reward_id}


@dataclass(frozen=True)
class ContestSpec:
    kind: str
    name_fa: str
    name_en: str
    opens_at: datetime
    closes_at: datetime
    description_fa: str | None = None
    description_en: str | None = None
    entry_cost: int = 0
    participation_points: int = 0
    prizes: tuple[Prize, ...] = ()
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionSpec:
    text_fa: str
    text_en: str
    options: tuple[tuple[str, str], ...]  # (fa, en) per option
    correct_option: int
    time_limit_ms: int
    image: str | None = None  # a stored picture's file name (webapp.uploads)


def check_prizes(session: Session, prizes: tuple[Prize, ...]) -> str | None:
    """The problem code of the first prize line that is wrong, or None."""
    ranges = sorted((p.rank_from, p.rank_to) for p in prizes)
    for p in prizes:
        if p.kind not in PRIZE_KINDS:
            return "prize_kind"
        if not 1 <= p.rank_from <= p.rank_to <= MAX_PRIZE_RANK:
            return "prize_ranks"
        if p.kind in ("points", "credit") and not 0 < p.amount <= MAX_POINTS:
            return "prize_amount"
        if p.kind == "reward" and (p.reward_id is None or session.get(Reward, p.reward_id) is None
                                   or session.get(Reward, p.reward_id).status == "archived"):
            return "prize_reward"
    for (_a, end), (start, _b) in zip(ranges, ranges[1:], strict=False):
        if start <= end:
            return "prize_ranges_overlap"
    return None


def check_contest(session: Session, spec: ContestSpec) -> dict[str, str]:
    problems: dict[str, str] = {}
    if spec.kind not in registry.kinds("contest"):
        problems["kind"] = "contest_kind"
    if not spec.name_fa.strip() or not spec.name_en.strip():
        problems["name"] = "names_required"
    if spec.closes_at <= spec.opens_at:
        problems["closes_at"] = "close_after_open"
    if not 0 <= spec.entry_cost <= MAX_POINTS:
        problems["entry_cost"] = "points_0_10m"
    if not 0 <= spec.participation_points <= MAX_POINTS:
        problems["participation_points"] = "points_0_10m"
    if prize_problem := check_prizes(session, spec.prizes):
        problems["prizes"] = prize_problem
    if "kind" not in problems:
        problems.update(registry.get_type(spec.kind).check_settings(session, spec.settings))
    return problems


def snapshot(contest: Contest) -> dict:
    return {"kind": contest.kind, "name_fa": contest.name_fa, "name_en": contest.name_en,
            "opens_at": contest.opens_at.isoformat(), "closes_at": contest.closes_at.isoformat(),
            "entry_cost": contest.entry_cost, "participation_points": contest.participation_points,
            "prizes": contest.prizes, "settings": contest.settings, "status": contest.status}


def get_contest(session: Session, contest_id: int, *, lock: bool = False) -> Contest:
    query = select(Contest).where(Contest.id == contest_id)
    contest = session.scalar(query.with_for_update() if lock else query)
    if contest is None:
        raise NotFound("Contest not found.", contest_id=contest_id)
    return contest


def has_players(session: Session, contest_id: int) -> bool:
    return session.scalar(select(ContestEntry.id).where(ContestEntry.contest_id == contest_id).limit(1)) is not None


def create_contest(session: Session, spec: ContestSpec, *, actor: audit.Actor, now: datetime) -> Contest:
    problems = check_contest(session, spec)
    if problems:
        raise ContestInvalid(problems)
    contest = Contest(status="draft", created_by=actor.label, created_at=now, tie_unit_ms=1)
    _apply(contest, spec)
    session.add(contest)
    session.flush()
    audit.record(session, actor, "contest.create", "contest", contest.id, now=now, after=snapshot(contest))
    return contest


def update_contest(session: Session, contest_id: int, spec: ContestSpec, *, actor: audit.Actor,
                   now: datetime) -> Contest:
    """Change a contest. Once anyone has played, only the texts, the close (not
    earlier than now) and the prizes may change; never after finalising."""
    contest = get_contest(session, contest_id, lock=True)
    if contest.status == "finalised":
        raise ContestWrongState(status=contest.status)
    spec = ContestSpec(**{**asdict(spec), "kind": contest.kind,
                          "prizes": spec.prizes})  # the kind never changes
    problems = check_contest(session, spec)
    if problems:
        raise ContestInvalid(problems)
    if has_players(session, contest_id) and (
            spec.opens_at != contest.opens_at or spec.entry_cost != contest.entry_cost
            or spec.settings != contest.settings or spec.closes_at < min(now, contest.closes_at)):
        raise ContestLocked(contest_id=contest_id)
    before = snapshot(contest)
    _apply(contest, spec)
    if contest.status == "published":
        _fix_tie_unit(session, contest)
    audit.record(session, actor, "contest.update", "contest", contest.id, now=now, before=before,
                 after=snapshot(contest))
    return contest


def _apply(contest: Contest, spec: ContestSpec) -> None:
    contest.kind, contest.name_fa, contest.name_en = spec.kind, spec.name_fa.strip(), spec.name_en.strip()
    contest.description_fa, contest.description_en = spec.description_fa or None, spec.description_en or None
    contest.opens_at, contest.closes_at = spec.opens_at, spec.closes_at
    contest.entry_cost, contest.participation_points = spec.entry_cost, spec.participation_points
    contest.prizes = [p.as_json() for p in sorted(spec.prizes, key=lambda p: p.rank_from)]
    contest.settings = dict(spec.settings)


def _fix_tie_unit(session: Session, contest: Contest) -> None:
    """The submission-time unit that makes this contest's board exact (see contests.timing).
    Once anyone has played, their tie times are in the stored unit: it stays, and
    a change (a later close) must still fit the 53 bits in it."""
    max_score, max_elapsed = registry.get_type(contest.kind).bounds(session, contest)
    if has_players(session, contest.id):
        try:
            timing.layout(max_score, max_elapsed, timing.duration_ms(contest.opens_at, contest.closes_at),
                          contest.tie_unit_ms)
        except ValueError:
            raise ContestInvalid({"closes_at": "close_too_far"}) from None
        return
    try:
        contest.tie_unit_ms = timing.tie_unit_ms(max_score, max_elapsed,
                                                 timing.duration_ms(contest.opens_at, contest.closes_at))
    except ValueError:
        raise ContestInvalid({"closes_at": "close_too_far"}) from None


def publish_contest(session: Session, contest_id: int, *, actor: audit.Actor, now: datetime) -> Contest:
    contest = get_contest(session, contest_id, lock=True)
    if contest.status != "draft":
        raise ContestWrongState(status=contest.status)
    if contest.closes_at <= now:
        raise ContestInvalid({"closes_at": "close_passed"})
    problems = registry.get_type(contest.kind).publish_problems(session, contest)
    if problems:
        raise ContestInvalid(problems)
    _fix_tie_unit(session, contest)
    contest.status = "published"
    audit.record(session, actor, "contest.publish", "contest", contest.id, now=now,
                 before={"status": "draft"}, after={"status": "published", "tie_unit_ms": contest.tie_unit_ms})
    return contest


def check_question(spec: QuestionSpec) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not spec.text_fa.strip() or not spec.text_en.strip():
        problems["text"] = "question_text"
    if not quiz_engine.MIN_OPTIONS <= len(spec.options) <= quiz_engine.MAX_OPTIONS:
        problems["options"] = "question_options"
    elif any(not fa.strip() or not en.strip() for fa, en in spec.options):
        problems["options"] = "question_options"
    if not 0 <= spec.correct_option < len(spec.options):
        problems["correct_option"] = "correct_option"
    if not MIN_TIME_LIMIT_MS <= spec.time_limit_ms <= MAX_TIME_LIMIT_MS:
        problems["time_limit_ms"] = "time_limit_range"
    return problems


def _editable_quiz(session: Session, contest_id: int) -> Contest:
    contest = get_contest(session, contest_id, lock=True)
    if "questions" not in registry.get_type(contest.kind).staff_actions or contest.status == "finalised":
        raise ContestWrongState(status=contest.status)
    if has_players(session, contest_id):
        raise ContestLocked(contest_id=contest_id)
    return contest


def save_question(session: Session, contest_id: int, spec: QuestionSpec, *, actor: audit.Actor,
                  now: datetime, question_id: int | None = None) -> ContestQuestion:
    """Add a question (at the end) or change one, until anyone has played."""
    problems = check_question(spec)
    if problems:
        raise ContestInvalid(problems)
    contest = _editable_quiz(session, contest_id)
    if question_id is None:
        if question_count(session, contest_id) >= MAX_QUESTIONS:
            raise ContestInvalid({"questions": "too_many_questions"})
        last = session.scalar(select(func.max(ContestQuestion.position))
                              .where(ContestQuestion.contest_id == contest_id))
        question = ContestQuestion(contest_id=contest_id, position=(last or 0) + 1)
        before = None
    else:
        question = session.get(ContestQuestion, question_id)
        if question is None or question.contest_id != contest_id:
            raise NotFound("Question not found.", question_id=question_id)
        before = _question_snapshot(question)
    question.text_fa, question.text_en = spec.text_fa.strip(), spec.text_en.strip()
    question.options = [{"fa": fa.strip(), "en": en.strip()} for fa, en in spec.options]
    question.correct_option, question.time_limit_ms = spec.correct_option, spec.time_limit_ms
    question.image = spec.image
    session.add(question)
    session.flush()
    if contest.status == "published":
        _fix_tie_unit(session, contest)
    audit.record(session, actor, "contest.question", "contest", contest_id, now=now, before=before,
                 after=_question_snapshot(question))
    return question


def _question_snapshot(question: ContestQuestion) -> dict:
    return {"id": question.id, "text_en": question.text_en, "options": question.options,
            "correct_option": question.correct_option, "time_limit_ms": question.time_limit_ms,
            "image": question.image}


def enter_result(session: Session, contest_id: int, result: tuple[int, ...], *, actor: audit.Actor,
                 now: datetime) -> Contest:
    """A prediction's outcome, after the deadline; the minute job then finalises it.
    It can be corrected until the contest is finalised."""
    contest = get_contest(session, contest_id, lock=True)
    adapter = registry.get_type(contest.kind)
    if "result" not in adapter.staff_actions or contest.status != "published" or contest.closes_at > now:
        raise ContestWrongState(status=contest.status)
    try:
        adapter.check_value(contest.settings, tuple(result))
    except ValueError:
        raise ContestInvalid({"result": "result_impossible"}) from None
    before = {"result": contest.result}
    contest.result, contest.result_entered_at = list(result), now
    audit.record(session, actor, "contest.result", "contest", contest.id, now=now, before=before,
                 after={"result": contest.result})
    return contest
