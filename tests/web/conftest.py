"""Signed-in clients for the staff pages."""

from __future__ import annotations

import pytest

from tests.helpers.web import sign_in_staff


@pytest.fixture
def owner_client(client, make_staff):
    sign_in_staff(client, make_staff("owner"))
    return client


@pytest.fixture
def marketer(client, make_staff):
    """A marketer signed in on `client`."""
    staff = make_staff("marketer")
    assert sign_in_staff(client, staff).status_code == 302
    return staff
