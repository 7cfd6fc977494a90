"""Workspace profile and team rules: invalid input is refused and nothing partial is stored."""

from __future__ import annotations

import pytest

from agent.core.errors import Conflict, ValidationError
from agent.core.workspaces import NewMember
from tests.conftest import make_workspace

ADMIN = NewMember(
    name="Dana", email="dana@acme.example", password="a long enough passphrase", role="admin"
)


def count_workspaces(container) -> int:
    return len(container.workspaces.all())


def test_create_with_profile_and_admin(container):
    workspace = container.workspaces.create(
        {
            "name": "Acme Plumbing",
            "timezone": "America/Toronto",
            "country": "CA",
            "phone": "416 555 0100",
            "hours": {"mon": "08:00-17:00", "sat": "closed"},
            "links": {"booking": "https://acme.example/book"},
            "services": ["Drain cleaning", " ", "Boilers"],
            "appointment_minutes": 45,
            "widget": {"greeting": "Hi!", "position": "left"},
        },
        ADMIN,
    )
    assert workspace.phone == "+14165550100"
    assert workspace.hours["mon"] == ["08:00-17:00"] and workspace.hours["sat"] == []
    assert workspace.services == ["Drain cleaning", "Boilers"]
    assert workspace.widget["greeting"] == "Hi!" and workspace.widget["primary_color"]
    assert len(workspace.widget_key) >= 16
    member = container.workspaces.authenticate(workspace.id, "DANA@acme.example", ADMIN.password)
    assert member is not None and member.role == "admin"
    assert member.password_hash != ADMIN.password
    assert (
        container.workspaces.authenticate(workspace.id, "dana@acme.example", "wrong password!")
        is None
    )


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"timezone": "Pacific/Atlantis"}, "timezone"),
        ({"hours": {"mon": "09:00-13:00, 12:00-17:00"}}, "hours.mon"),
        ({"country": "ZZ"}, "country"),
        ({"links": {"book": "javascript:alert(1)"}}, "links.book"),
        ({"appointment_minutes": 0}, "appointment_minutes"),
        ({"widget": {"greeting": "x" * 71}}, "widget.greeting"),
        ({"widget": {"initial_message": "x" * 601}}, "widget.initial_message"),
        ({"widget": {"font": "Comic Sans"}}, "widget.font"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"email": "nope"}, "email"),
    ],
)
def test_bad_profiles_are_refused_and_nothing_stored(container, profile, field):
    with pytest.raises(ValidationError) as info:
        container.workspaces.create({"name": "Acme", **profile}, ADMIN)
    assert info.value.field == field
    assert count_workspaces(container) == 0


def test_weak_admin_password_stores_nothing(container):
    weak = NewMember(name="Dana", email="dana@acme.example", password="password123", role="admin")
    with pytest.raises(ValidationError, match="password"):
        container.workspaces.create({"name": "Acme"}, weak)
    assert count_workspaces(container) == 0


def test_update_profile_validates_each_change(container):
    workspace, _ = make_workspace(container)
    with pytest.raises(ValidationError):
        container.workspaces.update_profile(
            workspace.id, {"timezone": "Nowhere/Town", "address": "1 Main St"}
        )
    updated = container.workspaces.update_profile(
        workspace.id, {"address": "1 Main St", "phone": "604 555 0100"}
    )
    assert updated.address == "1 Main St" and updated.phone == "+16045550100"
    with container.uow() as uow:
        assert uow.workspace(workspace.id).workspace().timezone == "America/Vancouver"


def test_members(container):
    workspace, _ = make_workspace(container)
    staff = container.workspaces.add_member(
        workspace.id,
        NewMember(name="Sam", email="sam@bayside.example", password="another fine passphrase"),
    )
    assert staff.role == "staff"
    with pytest.raises(Conflict, match="already a member"):
        container.workspaces.add_member(
            workspace.id,
            NewMember(name="Sam", email="SAM@bayside.example", password="another fine passphrase"),
        )
    with pytest.raises(ValidationError, match="not a role"):
        container.workspaces.add_member(
            workspace.id,
            NewMember(
                name="Z", email="z@x.example", password="another fine passphrase", role="owner"
            ),
        )
