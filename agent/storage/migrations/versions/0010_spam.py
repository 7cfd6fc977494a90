"""Spam: the Spam view's reason on conversations, and the blocked / known-good senders

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "conversation", sa.Column("spam_reason", sa.Text(), nullable=False, server_default="")
    )
    op.create_table(
        "sender_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_sender_rule_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender_rule")),
        sa.UniqueConstraint("workspace_id", "kind", "value", name="uq_sender_rule_value"),
    )


def downgrade() -> None:
    op.drop_table("sender_rule")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("spam_reason")
