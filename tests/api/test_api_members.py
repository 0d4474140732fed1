"""POST /members (find or create) and GET /members/{id}."""

import pytest


def test_creating_a_member_answers_201_with_the_member(api):
    response = api.post("/members", {"mobile": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "display_name": "Sara", "locale": "fa"})
    assert response.status_code == 201
    member = response.get_json()
    assert member["mobile"] == "+989123456789"
    assert member["display_name"] == "Sara"
    assert member["locale"] == "fa"
    assert member["status"] == "active"
    assert (member["points_balance"], member["credit_balance"]) == (0, 0)
    assert member["tier"] is None  # the club has no tier program yet
    assert member["created_at"].endswith("Z")


def test_finding_an_existing_member_answers_200_and_fills_in_what_was_missing(api):
    created = api.post("/members", {"mobile": "09123456789"}).get_json()
    response = api.post("/members", {"mobile": "+98 912 345 6789", "email": "Sara@Example.com",
                                     "external_id": "pos-77"})
    assert response.status_code == 200
    found = response.get_json()
    assert found["id"] == created["id"]
    assert (found["email"], found["external_id"]) == ("sara@example.com", "pos-77")
    # and the external id alone now finds the same member
    assert api.post("/members", {"external_id": "pos-77"}).get_json()["id"] == created["id"]


def test_identifiers_of_two_different_members_are_a_conflict(api):
    first = api.post("/members", {"email": "a@example.com"}).get_json()
    second = api.post("/members", {"mobile": "09121111111"}).get_json()
    response = api.post("/members", {"email": "a@example.com", "mobile": "09121111111"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict"
    assert sorted(error["details"]["member_ids"]) == sorted([first["id"], second["id"]])


def test_get_member_shows_balances(api, make_member):
    member = make_member(points=120, credit=5_000, display_name="Ali")
    response = api.get(f"/members/{member.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["display_name"], body["email"]) == (member.id, "Ali", member.email)
    assert (body["points_balance"], body["credit_balance"]) == (120, 5_000)
    assert body["tier"] is None
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("member_id", ["999999", "2147483648", str(2**63), str(10**30)])
def test_unknown_members_are_404(api, make_member, member_id):
    make_member()
    response = api.get(f"/members/{member_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "member_not_found"


@pytest.mark.parametrize("path", ["/members/abc", "/members/-1", "/members/1.5", "/nothing-here"])
def test_paths_that_name_nothing_are_404_json(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "identifiers"),
        ({"display_name": "No id"}, "identifiers"),
        ({"email": None, "mobile": ""}, "identifiers"),
        ({"email": "not-an-email"}, "email"),
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": 9123456789}, "mobile"),
        ({"email": ["a@example.com"]}, "email"),
        ({"external_id": True}, "external_id"),
        ({"external_id": "x" * 65}, "external_id"),
        ({"external_id": "a\nb"}, "external_id"),
        ({"email": "a@example.com", "locale": "de"}, "locale"),
        ({"email": "a@example.com", "display_name": "x" * 81}, "display_name"),
        ({"email": "a@example.com", "password": "secret123"}, "password"),
    ],
)
def test_bad_member_bodies_are_422_naming_the_field(api, body, field):
    response = api.post("/members", body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"]


def test_a_body_that_is_not_an_object_is_422(api):
    response = api.post("/members", ["email", "a@example.com"])
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"body": "must be a JSON object"}
