"""indexes for the inbox's conversation list

The list's page (newest first, no status filter) walks an index instead of sorting every
conversation of the workspace. The page's batch loads (contacts by id; the newest message
and unread counts of its conversations) get indexes that also match the workspace filter
every repository query carries, so SQLite, which keeps no statistics, no longer prefers
scanning the whole workspace through an index that merely starts with workspace_id. The
message index still leads with conversation_id, for the foreign key's cascades.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contact_workspace_id", "contact", ["workspace_id", "id"], unique=False)
    op.create_index(
        "ix_conversation_workspace_recent",
        "conversation",
        ["workspace_id", "last_message_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_message_conversation_workspace",
        "message",
        ["conversation_id", "workspace_id", "id"],
        unique=False,
    )
    op.drop_index("ix_message_conversation", table_name="message")


def downgrade() -> None:
    op.create_index("ix_message_conversation", "message", ["conversation_id", "id"], unique=False)
    op.drop_index("ix_message_conversation_workspace", table_name="message")
    op.drop_index("ix_conversation_workspace_recent", table_name="conversation")
    op.drop_index("ix_contact_workspace_id", table_name="contact")
