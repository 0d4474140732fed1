"""Bearer keys and the per-key rate limit."""

import pytest


def _error(response):
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer vafa_nope_nope",
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_requests_without_a_valid_key_are_unauthorized(client, api_key, make_member, authorization):
    member = make_member()
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get(f"/api/v1/members/{member.id}", headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(client, api_key, make_member):
    member = make_member()
    forged = api_key.rsplit("_", 1)[0] + "_" + "x" * 43
    response = client.get(f"/api/v1/members/{member.id}", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_posts_without_a_key_are_refused_before_anything_happens(api_as, api_key, make_member, purchase_for):
    member = make_member()
    response = api_as(None).post("/transactions", purchase_for(member.id))
    assert response.status_code == 401
    assert api_as(api_key).get(f"/members/{member.id}").get_json()["points_balance"] == 0


def test_a_revoked_key_is_refused(api_as, make_api_key, make_member, purchase_for):
    member = make_member()
    revoked = api_as(make_api_key(revoked=True))
    assert revoked.get(f"/members/{member.id}").status_code == 401
    response = revoked.post("/transactions", purchase_for(member.id))
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_revoking_a_key_takes_effect_on_the_next_request(api_as, app, api_key, make_member):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import ApiKey, utcnow
    from webapp.services.members import audit
    from webapp.services.members.staff import revoke_api_key

    member = make_member()
    api = api_as(api_key)
    assert api.get(f"/members/{member.id}").status_code == 200
    with app.app_context():
        key_id = db.session.scalar(select(ApiKey.id))
        revoke_api_key(db.session, key_id, actor=audit.CLI, now=utcnow())
        db.session.commit()
    assert api.get(f"/members/{member.id}").status_code == 401


def test_using_a_key_records_when_it_was_last_used(app, api, make_member):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import ApiKey

    api.get(f"/members/{make_member().id}")
    with app.app_context():
        assert db.session.scalar(select(ApiKey.last_used_at)) is not None


def test_the_openapi_document_needs_no_key(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


def test_rate_limit_answers_429_json_per_key(api_as, app, api_key, make_api_key, make_member):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    member = make_member()
    api = api_as(api_key)
    assert [api.get(f"/members/{member.id}").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get(f"/members/{member.id}")
    assert limited.status_code == 429
    assert _error(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    # posts count against the same budget as gets
    assert api.post("/members", {"email": "late@example.com"}).status_code == 429
    # another key has its own budget
    other = api_as(make_api_key())
    assert other.get(f"/members/{member.id}").status_code == 200


def test_requests_without_a_key_are_limited_by_address(api_as, app, api_key, make_member):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    member = make_member()
    anonymous = api_as(None)
    assert [anonymous.get(f"/members/{member.id}").status_code for _ in range(3)] == [401, 401, 429]
    # a keyed client from the same address still has its budget
    assert api_as(api_key).get(f"/members/{member.id}").status_code == 200
