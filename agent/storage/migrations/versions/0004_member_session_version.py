"""a session version per team member (sign-out ends every session of the member)

Each session cookie carries the member's session version from sign-in; a session is
valid only while it matches. Existing members start at 0, as do cookies issued before
this revision, so nobody is signed out by the upgrade.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "team_member",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("team_member", "session_version")
