"""episodes.causes: the second faults said while an episode was open

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('episodes', sa.Column('causes', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('episodes') as batch:
        batch.drop_column('causes')
