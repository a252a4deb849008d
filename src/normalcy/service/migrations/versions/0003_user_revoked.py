"""users.revoked_at, users.revoked_by: a user whose access was revoked

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('revoked_at', sa.Float(), nullable=True))
    op.add_column('users', sa.Column('revoked_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('revoked_by')
        batch.drop_column('revoked_at')
