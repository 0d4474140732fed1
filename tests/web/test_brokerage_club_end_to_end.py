"""The bank-brokerage club of the seed, end to end and without code: tiers C/B/A on
total turnover over the last 90 days, and every day each member gets back a
tier-dependent share of that day's fees as points.

Everything goes through the real surfaces: the owner designs the program in
/admin/tiers (read from the page like a browser: preview, then confirm) and
switches purchase points off in /admin/settings; the till creates members and
posts trades and refunds through /api/v1; the daily jobs run on a real RQ
worker in burst mode (twice); members read /me, /me/tier and /me/inbox. Only
the night after the grace period, which the jobs cannot be told (they read the
real clock), is run through `tiers.evaluate_all` with a later `now`."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from rq.job import JobStatus
from sqlalchemy import func, select

from tests.helpers.web import in_db, post_form
from webapp.i18n import format_date, format_money
from webapp.jobs import get_queue
from webapp.jobs.tiers import award_fee_rebates, evaluate_tiers
from webapp.models import InboxMessage, LedgerEntry, Member, Purchase, TierHistory, TierProgram
from webapp.services import ledger, tiers

MILLION = 1_000_000
B_AT, A_AT = 500 * MILLION, 2_000 * MILLION
RIALS_PER_POINT = 1_000
GRACE_DAYS = 14
PASSWORD = "brokerage-pass-1"
# code, Persian name, English name, threshold as the owner types it, rebate %
LEVELS = (
    ("c", "ردهٔ ج", "Class C", "0", "5"),
    ("b", "ردهٔ ب", "Class B", "500,000,000", "10"),
    ("a", "ردهٔ الف", "Class A", "۲٬۰۰۰٬۰۰۰٬۰۰۰", "20"),  # Persian digits and separators
)


# -- reading pages like a browser -------------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser submits from the form with `form_id` (buttons excluded:
    the caller adds the one it "clicks")."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, {}
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        name = a.get("name")
        if not self.inside:
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value") or "on"
            elif kind not in ("submit", "button", "reset", "image", "file"):
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self.select, self.options = name, []
        elif tag == "option" and self.select:
            self.options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_data(self, data):
        if self.textarea:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [v for v, selected in self.options if selected] or [v for v, _ in self.options[:1]]
            if chosen:
                self.fields[self.select] = chosen[0]
            self.select = None
        elif tag == "textarea" and self.textarea:
            # browsers drop the one newline right after <textarea>
            self.fields[self.textarea] = re.sub(r"\A\r?\n", "", "".join(self.text))
            self.textarea = None


def read_form(response, form_id: str) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    parser = _FormFields(form_id)
    parser.feed(response.get_data(as_text=True))
    assert "csrf_token" in parser.fields, f"no form #{form_id} on the page"
    return parser.fields


def page_text(response) -> str:
    """The page's HTML with entities decoded and whitespace collapsed."""
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def words(app, fn):
    """A formatted amount or date as an English page shows it."""
    with app.test_request_context():
        return " ".join(fn().split())


# -- the till --------------------------------------------------------------------------


class Till:
    """The integration API as a till speaks it: bearer key, Idempotency-Key on every POST."""

    def __init__(self, client, key: str):
        self.client, self.auth, self.n = client, {"Authorization": f"Bearer {key}"}, 0

    def post(self, path: str, body: dict, *, key: str | None = None):
        self.n += 1
        headers = {**self.auth, "Idempotency-Key": key or f"till-{self.n}"}
        return self.client.post(f"/api/v1{path}", data=json.dumps(body), headers=headers,
                                content_type="application/json")

    def get(self, path: str):
        return self.client.get(f"/api/v1{path}", headers=self.auth)

    def tier(self, member_id: int) -> str:
        shown = self.get(f"/members/{member_id}")
        assert shown.status_code == 200, shown.get_json()
        return shown.get_json()["tier"]["code"]

    def trade(self, member_id: int, amount: int, when: datetime, fee: int | None = None, *,
              key: str | None = None) -> dict:
        body = {"member_id": member_id, "amount": amount, "currency": "IRR",
                "occurred_at": when.isoformat()}
        if fee is not None:
            body["fee"] = fee
        answer = self.post("/transactions", body, key=key)
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()


# -- the database, read in short app contexts ----------------------------------------------


def tally(app) -> tuple[int, int, int, int]:
    """(ledger entries, tier history rows, inbox messages but the till's welcomes, purchases)."""
    return in_db(app, lambda s: tuple(
        s.scalar(select(func.count()).select_from(model).where(*where))
        for model, where in ((LedgerEntry, ()), (TierHistory, ()), (InboxMessage, (InboxMessage.kind != "welcome",)),
                             (Purchase, ()))))


def balances(app, *ids) -> dict[int, int]:
    return in_db(app, lambda s: {i: ledger.balance_of(s, i, "points") for i in ids})


def kinds(app, member_id) -> list[tuple[str, dict]]:
    # the codes the inbox reads (the level names beside them are for the message templates)
    return in_db(app, lambda s: [(m.kind, {k: v for k, v in m.params.items() if "_name_" not in k}) for m in s.scalars(
        select(InboxMessage).where(InboxMessage.member_id == member_id, InboxMessage.kind != "welcome")
        .order_by(InboxMessage.id))])


def history(app, member_id) -> list[tuple[str, str | None, str]]:
    def read(s):
        code = {lv.id: lv.code for lv in tiers.load_program(s).levels}
        return [(h.reason, code.get(h.from_tier_id), code.get(h.to_tier_id)) for h in s.scalars(
            select(TierHistory).where(TierHistory.member_id == member_id).order_by(TierHistory.id))]

    return in_db(app, read)


def run_jobs(app, run_worker, *jobs) -> list[dict]:
    """Enqueue on the real Redis, drain with a real worker, return what each job returned."""
    with app.app_context():
        queued = [get_queue("default").enqueue(job, *args) for job, *args in jobs]
    run_worker()
    results = []
    for job in queued:
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
        results.append(job.return_value())
    return results


# -- the steps -------------------------------------------------------------------------------


def owner_configures_the_club(app, client, make_staff) -> None:
    owner = make_staff("owner")
    signed_in = post_form(client, "/admin/login", {"email": owner.email, "password": owner.plain_password})
    assert signed_in.status_code == 302

    # purchases earn nothing here: points come from fee rebates only
    fields = read_form(client.get("/admin/settings"), "earn-form")
    assert fields.pop("earn_enabled") == "y"  # on by default
    assert client.post("/admin/settings", data=fields).status_code == 302
    assert "earn_enabled" not in read_form(client.get("/admin/settings"), "earn-form")

    # the editor starts from a suggested four-level program: remove the top level
    fields = read_form(client.get("/admin/tiers"), "tier-form")
    assert [k for k in fields if k.endswith("-code")] == [f"levels-{i}-code" for i in range(4)]
    fields = read_form(client.post("/admin/tiers", data={**fields, "remove_level": "3"}), "tier-form")
    assert [k for k in fields if k.endswith("-code")] == [f"levels-{i}-code" for i in range(3)]

    fields.update(metric="spend", window_kind="rolling", window_days="90", grace_days=str(GRACE_DAYS),
                  rebate_money_per_point=f"{RIALS_PER_POINT:,}")
    for i, (code, name_fa, name_en, threshold, rebate) in enumerate(LEVELS):
        row = f"levels-{i}-"
        fields.update({row + "code": code, row + "name_fa": name_fa, row + "name_en": name_en,
                       row + "threshold": threshold, row + "multiplier": "1",
                       row + "fee_rebate_percent": rebate, row + "extra_raffle_tickets": "0",
                       row + "benefits_fa": "", row + "benefits_en": ""})
        for perk in ("free_shipping", "rewards_unlocked"):
            fields.pop(row + perk, None)

    # "Preview changes", then "Save the program" from the preview page
    shown = client.post("/admin/tiers", data={**fields, "preview": "1"})
    text = page_text(shown)
    assert "If you save now: 0 members move up, 0 move down and 0 stay where they are." in text
    assert re.findall(r'data-code="([a-z])"', shown.get_data(as_text=True)) == ["c", "b", "a"]
    confirm = read_form(shown, "tier-form")
    assert re.fullmatch(r"[0-9a-f]{64}", confirm["digest"])
    assert confirm["token"] == fields["token"] and confirm["version"] == ""
    saved = client.post("/admin/tiers/save", data=confirm)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/tiers")
    assert client.post("/admin/tiers/save", data=confirm).status_code == 302  # a double click saves once
    assert "The tier program is saved." in page_text(client.get("/admin/tiers"))

    program = in_db(app, tiers.load_program)
    assert in_db(app, lambda s: s.scalar(select(TierProgram.version))) == 1
    assert (program.metric, program.window_kind, program.window_days, program.grace_days,
            program.rebate_money_per_point) == ("spend", "rolling", 90, GRACE_DAYS, RIALS_PER_POINT)
    assert [(lv.rank, lv.code, lv.name_en, lv.threshold, lv.earn_multiplier_bp, lv.perks["fee_rebate_bp"])
            for lv in program.levels] == [(0, "c", "Class C", 0, 10_000, 500),
                                          (1, "b", "Class B", B_AT, 10_000, 1_000),
                                          (2, "a", "Class A", A_AT, 10_000, 2_000)]


def member_joins(app, email: str, name: str) -> None:
    """Sign up at /join like a person, then sign out (the login comes later)."""
    browser = app.test_client()
    joined = post_form(browser, "/join", {"email": email, "password": PASSWORD, "display_name": name})
    assert joined.status_code == 302 and joined.headers["Location"].endswith("/me")


def member_signs_in(app, email: str):
    browser = app.test_client()
    signed_in = post_form(browser, "/login", {"login": email, "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/me")
    return browser


# -- the scenario ------------------------------------------------------------------------------


def test_brokerage_club_configured_in_the_pages_runs_end_to_end(app, client, make_staff, api_key,
                                                               run_worker):
    zone = ZoneInfo(app.config["VAFA_TIMEZONE"])
    day = datetime.now(UTC).astimezone(zone).date() - timedelta(days=2)  # the trading day

    def at(hour, minute=0, days=0):
        return datetime.combine(day + timedelta(days=days), time(hour, minute), tzinfo=zone)

    # 1. the owner sets the club up in the admin pages
    owner_configures_the_club(app, client, make_staff)

    # 2. members: two sign up online, the till finds them by e-mail; one is new at the till
    member_joins(app, "ali@example.com", "Ali")
    member_joins(app, "bita@example.com", "Bita")
    till = Till(app.test_client(), api_key)
    found = till.post("/members", {"email": "Ali@Example.com"})
    assert found.status_code == 200, found.get_json()  # found, not created
    ali = found.get_json()["id"]
    assert found.get_json()["tier"]["code"] == "c"  # everyone starts at the entry level
    bita = till.post("/members", {"email": "bita@example.com"}).get_json()["id"]
    created = till.post("/members", {"mobile": "09121234567", "display_name": "Cyrus"})
    assert created.status_code == 201
    cyrus = created.get_json()["id"]

    # Ali: 300M → still C; +400M crosses 500M → B at once; +1.5B crosses 2B → A at once
    first = till.trade(ali, 300 * MILLION, at(10), 1_234_567)
    assert first["points_balance"] == 0  # purchases earn nothing in this club
    assert till.tier(ali) == "c"
    crossing = till.trade(ali, 400 * MILLION, at(11), 987_654, key="ali-2")
    assert till.tier(ali) == "b"
    retried = till.post("/transactions", {"member_id": ali, "amount": 400 * MILLION, "currency": "IRR",
                                          "occurred_at": at(11).isoformat(), "fee": 987_654}, key="ali-2")
    assert retried.status_code == 201 and retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.get_json()["id"] == crossing["id"]  # a retry records nothing twice
    big = till.trade(ali, 1_500 * MILLION, at(12), 3_333_333)
    assert till.tier(ali) == "a"
    # Bita: the first trade at 00:30 local time is still the trading day (21:00 UTC the day before);
    # a trade refunded in full neither counts towards the level nor earns a rebate
    till.trade(bita, 200 * MILLION, at(0, 30), 450_001)
    till.trade(bita, 350 * MILLION, at(15), 777_777)
    assert till.tier(bita) == "b"
    undone = till.trade(bita, 40 * MILLION, at(16), 500_000)
    refund = till.post(f"/transactions/{undone['id']}/refund", {"reason": "cancelled order"})
    assert refund.status_code == 201 and refund.get_json()["refundable_amount"] == 0
    # Cyrus: a trade late the evening before (not this day's fees), one without a fee, one small
    till.trade(cyrus, 60 * MILLION, at(23, 45, days=-1), 999_999)
    till.trade(cyrus, 5 * MILLION, at(13))
    till.trade(cyrus, 90 * MILLION, at(14), 123_456)
    assert till.tier(cyrus) == "c"
    assert tally(app) == (0, 3, 3, 9)  # no points yet; 3 upgrades, each told in the inbox

    # 3. the night: evaluation and the day's fee rebates on a real worker, twice
    night = (evaluate_tiers,), (award_fee_rebates, day.isoformat())
    evaluated, rebated = run_jobs(app, run_worker, *night)
    assert (evaluated["members"], evaluated["upgraded"], evaluated["at_risk"],
            evaluated["downgraded"]) == (3, 0, 0, 0)
    expected = {
        ali: (1_234_567 + 987_654 + 3_333_333) * 2_000 // (10_000 * RIALS_PER_POINT),  # A: 20 %
        bita: (450_001 + 777_777) * 1_000 // (10_000 * RIALS_PER_POINT),                # B: 10 %
        cyrus: 123_456 * 500 // (10_000 * RIALS_PER_POINT),                              # C: 5 %
    }
    assert expected == {ali: 1_111, bita: 122, cyrus: 6}  # rounded down
    assert rebated == {"day": day.isoformat(), "members": 3, "points": 1_239}
    assert balances(app, ali, bita, cyrus) == expected
    entries = in_db(app, lambda s: [(e.member_id, e.amount, e.kind, e.source_type, e.idempotency_key)
                                    for e in s.scalars(select(LedgerEntry).order_by(LedgerEntry.member_id))])
    assert sorted(entries) == sorted(
        (m, pts, "earn", "fee_rebate", f"fee-rebate:{day.isoformat()}:{m}") for m, pts in expected.items())
    assert kinds(app, ali) == [("tier_upgrade", {"from": "c", "to": "b"}),
                               ("tier_upgrade", {"from": "b", "to": "a"}),
                               ("fee_rebate", {"points": 1_111, "day": day.isoformat()})]
    assert kinds(app, bita) == [("tier_upgrade", {"from": "c", "to": "b"}),
                                ("fee_rebate", {"points": 122, "day": day.isoformat()})]
    assert kinds(app, cyrus) == [("fee_rebate", {"points": 6, "day": day.isoformat()})]
    assert history(app, ali) == [("upgrade", "c", "b"), ("upgrade", "b", "a")]
    assert history(app, bita) == [("upgrade", "c", "b")]
    assert in_db(app, ledger.find_mismatches) == []
    after_first_night = tally(app)
    assert after_first_night == (3, 3, 6, 9)

    evaluated, rebated = run_jobs(app, run_worker, *night)  # the scheduler fires again: nothing changes
    assert (evaluated["upgraded"], evaluated["at_risk"], evaluated["downgraded"],
            evaluated["metric_changed"]) == (0, 0, 0, 0)
    assert rebated == {"day": day.isoformat(), "members": 0, "points": 0}
    assert tally(app) == after_first_night
    assert balances(app, ali, bita, cyrus) == expected
    assert in_db(app, ledger.find_mismatches) == []

    # 4. members see their level, their progress and the rebate
    ali_browser, bita_browser = member_signs_in(app, "ali@example.com"), member_signs_in(app, "bita@example.com")
    me = page_text(bita_browser.get("/me"))
    assert '<span id="tier-current">Class B</span>' in me
    assert "Spent in the last 90 days" in me
    assert words(app, lambda: format_money(550 * MILLION, locale="en")) in me
    more = words(app, lambda: format_money(A_AT - 550 * MILLION, locale="en"))
    assert f"{more} more to reach Class A" in me
    assert 'aria-valuenow="3"' in me  # (550M − 500M) / (2B − 500M) = 3.3 %, rounded down
    assert "20% of your fees back as points" in me  # what Class A adds
    assert "At risk" not in me
    me = page_text(ali_browser.get("/me"))
    assert '<span id="tier-current">Class A</span>' in me and "You are at the top level." in me
    assert '<p class="balance-value" id="points-balance"><bdi>1,111</bdi></p>' in me
    inbox = page_text(ali_browser.get("/me/inbox"))
    assert "1,111 points back from your fees" in inbox
    assert f"on {words(app, lambda: format_date(day, locale='en'))}." in inbox
    assert "You moved up to Class A!" in inbox and "You moved up to Class B!" in inbox
    levels = page_text(bita_browser.get("/me/tier"))
    for code, _fa, name, _typed, rebate in LEVELS:
        assert f'id="level-{code}"' in levels and name in levels and f"{rebate}% of your fees back" in levels
    assert '<li class="card tier-level tier-level-current" id="level-b" aria-current="true">' in levels
    assert "Where everyone starts" in levels
    for threshold in (B_AT, A_AT):
        assert f"From {words(app, lambda t=threshold: format_money(t, locale='en'))}" in levels
    assert "Moved up to Class B" in levels
    # the same in Persian (the club's default language): Persian names, digits and rials
    to_persian = post_form(bita_browser, "/locale", {"locale": "fa", "next": "/me/tier"}, form_url="/me/tier")
    assert to_persian.status_code == 302
    levels = page_text(bita_browser.get("/me/tier"))
    assert '<html lang="fa" dir="rtl">' in levels
    assert "ردهٔ الف" in levels and "ردهٔ ب" in levels and "ردهٔ ج" in levels
    assert "۵۰۰٬۰۰۰٬۰۰۰ ریال" in levels and "۲٬۰۰۰٬۰۰۰٬۰۰۰ ریال" in levels and "۲۰٪" in levels
    assert "۱۲۲" in page_text(bita_browser.get("/me/inbox"))  # the rebate message, in Persian digits

    # 5. a refund drops Ali below A: kept at once, at risk the next night, down after the grace
    refund = till.post(f"/transactions/{big['id']}/refund", {"amount": 300 * MILLION})
    assert refund.status_code == 201, refund.get_json()
    assert refund.get_json()["points_balance"] == 1_111  # no purchase points to take back
    assert till.tier(ali) == "a"
    before_night = datetime.now(UTC)
    evaluated, rebated = run_jobs(app, run_worker, *night)
    assert (evaluated["at_risk"], evaluated["downgraded"], rebated["points"]) == (1, 0, 0)
    due = in_db(app, lambda s: s.get(Member, ali).downgrade_due_at)
    assert before_night + timedelta(days=GRACE_DAYS) <= due <= datetime.now(UTC) + timedelta(days=GRACE_DAYS)
    assert till.tier(ali) == "a"
    keep_needed = A_AT - 1_900 * MILLION
    at_risk = kinds(app, ali)[-1]
    assert at_risk[0] == "tier_at_risk"
    assert at_risk[1]["tier"] == "a" and at_risk[1]["keep_needed"] == keep_needed
    assert datetime.fromisoformat(at_risk[1]["keep_by"]) == due
    assert history(app, ali)[-1] == ("at_risk", "a", "b")
    keep = words(app, lambda: format_money(keep_needed, locale="en"))
    by = words(app, lambda: format_date(due - timedelta(seconds=1), locale="en"))
    me = page_text(ali_browser.get("/me"))
    assert '<span id="tier-current">Class A</span>' in me and "At risk" in me
    assert f"Add {keep} by {by} to keep Class A." in me
    assert f"Add {keep} by {by} to keep Class A." in page_text(ali_browser.get("/me/inbox"))
    at_risk_night = tally(app)
    run_jobs(app, run_worker, *night)  # twice in one night: nothing new
    assert tally(app) == at_risk_night

    def night_after_grace(session):
        result = tiers.evaluate_all(session, now=due + timedelta(hours=1))
        session.commit()
        return result

    late = in_db(app, night_after_grace)
    assert (late.downgraded, late.upgraded, late.at_risk) == (1, 0, 0)
    assert till.tier(ali) == "b" and till.tier(bita) == "b" and till.tier(cyrus) == "c"
    assert history(app, ali)[-1] == ("downgrade", "a", "b")
    assert kinds(app, ali)[-1] == ("tier_downgrade", {"from": "a", "to": "b"})
    downgraded = tally(app)
    assert downgraded == (at_risk_night[0], at_risk_night[1] + 1, at_risk_night[2] + 1, 9)
    again = in_db(app, night_after_grace)
    assert (again.downgraded, again.at_risk, again.metric_changed) == (0, 0, 0)
    assert tally(app) == downgraded
    me = page_text(ali_browser.get("/me"))
    assert '<span id="tier-current">Class B</span>' in me and "At risk" not in me
    assert f"{keep} more to reach Class A" in me
    inbox = page_text(ali_browser.get("/me/inbox"))
    assert "Your level is now Class B" in inbox and "You no longer qualified for Class A." in inbox
    assert "Moved down to Class B" in page_text(ali_browser.get("/me/tier"))
    assert balances(app, ali, bita, cyrus) == expected
    assert in_db(app, ledger.find_mismatches) == []
