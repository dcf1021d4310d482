"""search: one slip in a word of five letters or more is forgiven (docs/clients.md, issue 14)

Trigram word similarity alone does not keep that promise: a letter dropped in the middle of an
eight-letter word ("тракиски" for "тракийски") leaves a similarity of 0.58, under the 0.6 the
search used. ``crm_one_slip(a, b)`` says whether two words differ by at most one slip (a letter
missing, added or wrong, or two neighbours swapped); ``crm_slip_match(word, names)`` whether any
word of five letters or more of a client's ``search_names`` is one slip from ``word``. The trigram index still finds the
candidates (at a lower threshold, set by the query), these functions decide.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 17:00:00
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION crm_one_slip(a text, b text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  la int := length(a);
  lb int := length(b);
  i int := 1;
BEGIN
  IF abs(la - lb) > 1 THEN
    RETURN false;
  END IF;
  WHILE i <= least(la, lb) AND substr(a, i, 1) = substr(b, i, 1) LOOP
    i := i + 1;
  END LOOP;
  IF i > least(la, lb) THEN  -- the same, or one letter more at the end
    RETURN true;
  END IF;
  IF la = lb THEN  -- one letter wrong, or two neighbours swapped
    RETURN substr(a, i + 1) = substr(b, i + 1)
        OR (substr(a, i, 1) = substr(b, i + 1, 1) AND substr(a, i + 1, 1) = substr(b, i, 1)
            AND substr(a, i + 2) = substr(b, i + 2));
  ELSIF la > lb THEN  -- one letter added
    RETURN substr(a, i + 1) = substr(b, i);
  ELSE  -- one letter missing
    RETURN substr(a, i) = substr(b, i + 1);
  END IF;
END $$""")
    op.execute("""
CREATE FUNCTION crm_slip_match(word text, names text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT EXISTS (SELECT 1 FROM regexp_split_to_table(names, '[^[:alnum:]]+') AS w
                 WHERE length(w) >= 5 AND crm_one_slip(word, w))
$$""")


def downgrade() -> None:
    op.execute("DROP FUNCTION crm_slip_match(text, text)")
    op.execute("DROP FUNCTION crm_one_slip(text, text)")
