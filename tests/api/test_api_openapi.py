"""The OpenAPI document: complete, structurally valid, and true to the answers."""

import re

import jsonschema
import pytest
from openapi_spec_validator import validate


@pytest.fixture
def doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield path, method.lower()


def test_every_api_route_is_documented(app, doc):
    routes = set(_api_routes(app))
    assert len(routes) >= 6
    for path, method in routes:
        assert path in doc["paths"], path
        assert method in doc["paths"][path], (path, method)
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops if m != "parameters"}
    assert documented == routes


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_document_is_structurally_valid(doc):
    assert doc["openapi"] == "3.1.0"
    assert {"title", "version"} <= set(doc["info"])
    assert {"openapi", "info", "paths", "components"} <= set(doc)
    refs = set(_refs(doc))
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]
    validate(doc)  # the OpenAPI 3.1 meta-schema, via openapi-spec-validator


def test_posts_document_the_idempotency_key_and_every_error(doc):
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method == "post":
                assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
                assert {"400", "401", "409", "413", "415", "422", "429"} <= set(operation["responses"]), path
            if method == "get" and path != "/openapi.json":
                assert {"200", "401", "404", "429"} <= set(operation["responses"]), path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "only successful (2xx) answers are" in doc["info"]["description"].lower().replace("\n", " ")


def _conforms(doc, schema_name, instance):
    schema = {**doc, "$ref": f"#/components/schemas/{schema_name}"}
    jsonschema.Draft202012Validator(schema).validate(instance)


def test_answers_match_their_documented_schemas(doc, api, make_member, purchase_for):
    member = api.post("/members", {"email": "doc@example.com", "locale": "en"}).get_json()
    _conforms(doc, "Member", member)
    _conforms(doc, "Member", api.get(f"/members/{member['id']}").get_json())
    recorded = api.post("/transactions", purchase_for(member["id"], items=[{"qty": 1, "price": 5}],
                                                      external_ref="DOC-1")).get_json()
    _conforms(doc, "TransactionRecorded", recorded)
    refund = api.post(f"/transactions/{recorded['id']}/refund", {"amount": 10}).get_json()
    _conforms(doc, "RefundRecorded", refund)
    _conforms(doc, "Transaction", api.get(f"/transactions/{recorded['id']}").get_json())
    _conforms(doc, "Error", api.post("/transactions", {"amount": True}).get_json())
    with pytest.raises(jsonschema.ValidationError):
        _conforms(doc, "Member", {**member, "points_balance": "lots"})


def test_documented_request_schemas_accept_what_the_api_accepts(doc, make_member, purchase_for):
    _conforms(doc, "PurchaseRequest", purchase_for(1, items=[{"sku": "A", "qty": 2, "price": 0}]))
    _conforms(doc, "MemberLookup", {"mobile": "09123456789"})
    _conforms(doc, "RefundRequest", {})
    with pytest.raises(jsonschema.ValidationError):
        _conforms(doc, "PurchaseRequest", purchase_for(1, amount=0))


def test_credit_answers_and_requests_match_their_documented_schemas(doc, api, make_member, purchase_for):
    member = make_member(credit=10_000)
    spent = api.post("/credit/spend", {"member_id": member.id, "amount": 4_000, "external_ref": "DOC-C"})
    _conforms(doc, "CreditSpendRecorded", spent.get_json())
    refund = api.post(f"/credit/spend/{spent.get_json()['id']}/refund", {"amount": 1_000, "external_ref": "R"})
    _conforms(doc, "CreditRefundRecorded", refund.get_json())
    _conforms(doc, "CreditSpend", api.get(f"/credit/spend/{spent.get_json()['id']}").get_json())
    _conforms(doc, "Error", api.post("/credit/spend", {"member_id": member.id, "amount": 10**6}).get_json())
    _conforms(doc, "CreditSpendRequest", {"member_id": 1, "amount": 5, "reason": "till"})
    _conforms(doc, "CreditRefundRequest", {})
    _conforms(doc, "PurchaseRequest", purchase_for(1, fee=0))
    with pytest.raises(jsonschema.ValidationError):
        _conforms(doc, "CreditRefundRequest", {"reason": "not a field"})
    with pytest.raises(jsonschema.ValidationError):
        _conforms(doc, "PurchaseRequest", purchase_for(1, fee=-1))


def test_a_member_with_a_tier_matches_the_member_schema(doc, api, make_member, session):
    from datetime import UTC, datetime

    from webapp.services import tiers
    from webapp.services.members import audit

    member = make_member()
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=datetime.now(UTC))
    session.commit()
    body = api.get(f"/members/{member.id}").get_json()
    assert body["tier"]["rank"] == 0
    _conforms(doc, "Member", body)
    with pytest.raises(jsonschema.ValidationError):
        _conforms(doc, "Member", {**body, "tier": {"name": "Gold"}})
