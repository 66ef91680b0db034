"""The access database: users, API tokens, groups, shares and share links (SQLAlchemy 2).

The same models and migrations run on SQLite (embedded default) and MySQL / MariaDB.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# Names are case-sensitive everywhere (see the migration).
MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = MYSQL

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(DateTime)


class TokenRow(Base):
    __tablename__ = "api_tokens"
    __table_args__ = MYSQL

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(255), default="")
    created: Mapped[datetime] = mapped_column(DateTime)
    last_used: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expires: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class GroupRow(Base):
    __tablename__ = "groups"
    __table_args__ = MYSQL

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime)


class MemberRow(Base):
    __tablename__ = "group_members"

    group: Mapped[str] = mapped_column(
        String(64), ForeignKey("groups.name", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("group_members_username", "username"), MYSQL)


class ShareRow(Base):
    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(64))
    principal: Mapped[str] = mapped_column(String(140))  # user:NAME, group:NAME, link
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("document_id", "principal", name="shares_document_principal"),
        Index("shares_principal", "principal"),
        MYSQL,
    )


class LinkRow(Base):
    __tablename__ = "share_links"
    __table_args__ = MYSQL

    document_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    expires: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime)
