"""Automations: rules, the trigger events kept for dry runs, each rule's runs; contact tags

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspace.id"],
        name=op.f(f"fk_{table}_workspace_id_workspace"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.add_column("contact", sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "automation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("wait_minutes", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        _workspace_fk("automation_rule"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_rule")),
    )
    op.create_index(
        "ix_automation_rule_trigger", "automation_rule", ["workspace_id", "trigger"], unique=False
    )
    op.create_table(
        "automation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        _workspace_fk("automation_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_event")),
    )
    op.create_index(
        "ix_automation_event_type",
        "automation_event",
        ["workspace_id", "type", "id"],
        unique=False,
    )
    op.create_table(
        "automation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        _workspace_fk("automation_run"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rule.id"],
            name=op.f("fk_automation_run_rule_id_automation_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_run")),
        sa.UniqueConstraint("rule_id", "event_key", name="uq_automation_run_event"),
    )
    op.create_index("ix_automation_run_rule", "automation_run", ["rule_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("automation_run")
    op.drop_table("automation_event")
    op.drop_table("automation_rule")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("tags")
