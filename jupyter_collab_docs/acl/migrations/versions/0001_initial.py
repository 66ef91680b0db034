"""Users, API tokens, groups, shares and share links.

Revision ID: 0001
Revises:
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# Names are case-sensitive everywhere: MySQL / MariaDB compare case-insensitively
# unless told otherwise, SQLite does not.
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "username",
            sa.String(64),
            sa.ForeignKey("users.username", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("last_used", sa.DateTime, nullable=True),
        sa.Column("expires", sa.DateTime, nullable=True),
        **MYSQL,
    )
    op.create_index("ix_api_tokens_username", "api_tokens", ["username"])
    op.create_table(
        "groups",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("created", sa.DateTime, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "group_members",
        sa.Column(
            "group",
            sa.String(64),
            sa.ForeignKey("groups.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("username", sa.String(64), primary_key=True),
        **MYSQL,
    )
    op.create_index("group_members_username", "group_members", ["username"])
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(140), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=False),
        sa.Column("granted_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("document_id", "principal", name="shares_document_principal"),
        **MYSQL,
    )
    op.create_index("shares_principal", "shares", ["principal"])
    op.create_table(
        "share_links",
        sa.Column("document_id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("expires", sa.DateTime, nullable=True),
        sa.Column("created", sa.DateTime, nullable=False),
        **MYSQL,
    )


def downgrade() -> None:
    for table in ("share_links", "shares", "group_members", "groups", "api_tokens", "users"):
        op.drop_table(table)
