"""episodes.sensors: a JSON list, no longer comma-separated text

A sensor named with a comma ("LI101, tank 1 level", a historian's tag description) was
stored as two names no unit has. Each episode's text becomes the JSON list of its
sensors; commas are read back into the names of the episode's unit where the parts
join into one of them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def regroup(text: str, known: set[str]) -> list[str]:
    """The sensors of comma-separated ``text``: the longest run of parts that joins into
    a name in ``known`` is one sensor; a part that joins into none stays as it is."""
    parts = text.split(",") if text else []
    out, i = [], 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            name = ",".join(parts[i:j])
            if name in known:
                out.append(name)
                i = j
                break
        else:
            if parts[i]:
                out.append(parts[i])
            i += 1
    return out


def upgrade() -> None:
    conn = op.get_bind()
    units = {i: set(json.loads(s or "[]")) for i, s in conn.execute(
        sa.text("SELECT id, sensors FROM units"))}
    rows = conn.execute(sa.text("SELECT id, unit_id, sensors FROM episodes")).all()
    for ep_id, unit_id, text in rows:
        conn.execute(sa.text("UPDATE episodes SET sensors = :s WHERE id = :i"),
                     {"s": json.dumps(regroup(text or "", units.get(unit_id, set()))),
                      "i": ep_id})


def downgrade() -> None:
    conn = op.get_bind()
    for ep_id, text in conn.execute(sa.text("SELECT id, sensors FROM episodes")).all():
        conn.execute(sa.text("UPDATE episodes SET sensors = :s WHERE id = :i"),
                     {"s": ",".join(json.loads(text or "[]")), "i": ep_id})
