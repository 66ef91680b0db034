"""The role policy, against tables written out by hand from docs/sharing.md (not derived from the
code): what every role may do, what every granter may grant, and role ordering."""

from __future__ import annotations

import itertools

import pytest

from jupyter_collab_docs.acl import ROLES, Permission, can, can_grant
from jupyter_collab_docs.acl.policy import stronger

P = Permission
NO_ROLE = None
ALL_ROLES = ("viewer", "commenter", "editor", "owner")
GRANTERS = (NO_ROLE, *ALL_ROLES)
CURRENT = (NO_ROLE, *ALL_ROLES)

# Every permission, in the order of TABLE's columns (below).
COLUMNS = (
    P.READ,
    P.COMMENT,
    P.WRITE,
    P.MANAGE_VERSIONS,
    P.SHARE,
    P.DELETE,
    P.READ_ACTIVITY,
    P.RESOLVE_COMMENTS,
    P.MODERATE_COMMENTS,
)

# role -> permissions it holds; every other (role, permission) pair is refused.
EXPECTED: dict[str | None, set[Permission]] = {
    None: set(),
    "viewer": {P.READ},
    "commenter": {P.READ, P.COMMENT},
    "editor": {P.READ, P.COMMENT, P.WRITE, P.MANAGE_VERSIONS, P.SHARE, P.RESOLVE_COMMENTS},
    "owner": set(COLUMNS),  # every permission there is
}

# The same table, spelled out cell by cell (Y: allowed), so a typo in one cannot hide in
# both. Columns: read comment write manage_versions share delete read_activity
# resolve_comments moderate_comments
TABLE = """
            read comment write versions share delete activity resolve moderate
  (none)     -     -       -      -       -      -      -        -       -
  viewer     Y     -       -      -       -      -      -        -       -
  commenter  Y     Y       -      -       -      -      -        -       -
  editor     Y     Y       Y      Y       Y      -      -        Y       -
  owner      Y     Y       Y      Y       Y      Y      Y        Y       Y
"""


def test_the_two_tables_agree():
    lines = [line.split() for line in TABLE.strip().splitlines()[1:]]
    for cells in lines:
        role = None if cells[0] == "(none)" else cells[0]
        allowed = {perm for perm, cell in zip(COLUMNS, cells[1:], strict=True) if cell == "Y"}
        assert allowed == EXPECTED[role], role


def test_roles_and_permissions_are_exactly_the_documented_ones():
    assert tuple(ROLES) == ALL_ROLES
    assert {p.value for p in Permission} == {
        "read",
        "comment",
        "write",
        "manage_versions",
        "share",
        "delete",
        "read_activity",
        "resolve_comments",
        "moderate_comments",
    }
    assert set(COLUMNS) == set(Permission)


@pytest.mark.parametrize("permission", list(Permission), ids=lambda p: p.value)
@pytest.mark.parametrize("role", [NO_ROLE, *ALL_ROLES], ids=str)
def test_can(role, permission):
    assert can(role, permission) is (permission in EXPECTED[role])


@pytest.mark.parametrize("role", ["", "admin", "Owner", "superuser", "VIEWER"])
def test_unknown_roles_may_do_nothing(role):
    assert not any(can(role, p) for p in Permission)


# -- can_grant: granter x role x current -------------------------------------------------


def expected_grant(granter: str | None, role: str, current: str | None) -> bool:
    """docs/sharing.md: owners share anything; editors share up to editor and cannot change an
    owner's share; viewers, commenters and strangers share nothing."""
    if granter == "owner":
        return True
    if granter == "editor":
        return role != "owner" and current != "owner"
    return False


# Written out for the editor, who is the interesting case (current x new role):
EDITOR_GRANTS = {
    (None, "viewer"): True,
    (None, "commenter"): True,
    (None, "editor"): True,
    (None, "owner"): False,
    ("viewer", "viewer"): True,
    ("viewer", "commenter"): True,
    ("viewer", "editor"): True,
    ("viewer", "owner"): False,
    ("commenter", "viewer"): True,
    ("commenter", "commenter"): True,
    ("commenter", "editor"): True,
    ("commenter", "owner"): False,
    ("editor", "viewer"): True,
    ("editor", "commenter"): True,
    ("editor", "editor"): True,
    ("editor", "owner"): False,
    ("owner", "viewer"): False,
    ("owner", "commenter"): False,
    ("owner", "editor"): False,
    ("owner", "owner"): False,
}


def test_the_editor_table_is_complete_and_matches_the_rule():
    assert set(EDITOR_GRANTS) == set(itertools.product(CURRENT, ALL_ROLES))
    for (current, role), allowed in EDITOR_GRANTS.items():
        assert expected_grant("editor", role, current) is allowed


@pytest.mark.parametrize("current", CURRENT, ids=lambda r: f"current={r}")
@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda r: f"role={r}")
@pytest.mark.parametrize("granter", GRANTERS, ids=lambda r: f"granter={r}")
def test_can_grant(granter, role, current):
    # owners: every cell allowed; strangers, viewers, commenters: none; editors: the table
    expected = {"owner": True, "editor": EDITOR_GRANTS[(current, role)]}.get(granter, False)
    assert can_grant(granter, role, current) is expected
    assert expected is expected_grant(granter, role, current)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("granter", GRANTERS, ids=str)
def test_can_grant_without_a_current_share(granter, role):
    assert can_grant(granter, role) is expected_grant(granter, role, None)


def test_removing_a_share_is_granting_its_own_role():
    """The service checks removal as can_grant(mine, current, current): editors may
    remove viewer, commenter and editor shares, not owners; only owners remove owners."""
    assert [can_grant("editor", r, r) for r in ALL_ROLES] == [True, True, True, False]
    assert [can_grant("owner", r, r) for r in ALL_ROLES] == [True] * 4
    for granter in (None, "viewer", "commenter"):
        assert [can_grant(granter, r, r) for r in ALL_ROLES] == [False] * 4


# -- stronger ----------------------------------------------------------------------------

RANK = {None: -1, "viewer": 0, "commenter": 1, "editor": 2, "owner": 3}


@pytest.mark.parametrize("b", [NO_ROLE, *ALL_ROLES], ids=str)
@pytest.mark.parametrize("a", [NO_ROLE, *ALL_ROLES], ids=str)
def test_stronger(a, b):
    expected = a if RANK[a] >= RANK[b] else b
    assert stronger(a, b) == expected
    assert stronger(a, b) == stronger(b, a)


def test_stronger_examples():
    assert stronger(None, None) is None
    assert stronger("viewer", None) == "viewer"
    assert stronger(None, "commenter") == "commenter"
    assert stronger("viewer", "owner") == "owner"
    assert stronger("editor", "commenter") == "editor"
    roles: str | None = None
    for role in ("commenter", "viewer", "editor", "viewer"):
        roles = stronger(roles, role)
    assert roles == "editor"
