"""A database URL's password, hidden wherever the grader prints or stores it
(grader.grading.gradebook.hide_password, without_password)."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.grading.gradebook import hide_password, without_password

SAFE = string.ascii_letters + string.digits + "-._~%!$&'()*+,;="


@settings(deadline=1000, max_examples=200)
@given(
    user=st.text(SAFE.replace("%", ""), min_size=1, max_size=12),
    password=st.text(SAFE + ":/?#[]", min_size=6, max_size=30).filter(
        lambda p: p.strip(":/?#[]")
    ),
    before=st.text(max_size=20).filter(lambda t: "@" not in t),
)
def test_no_password_survives(user, password, before):
    """In a URL alone or inside a command line: *** (or nothing), never the
    password; the rest of the URL kept."""
    url = f"postgresql+psycopg://{user}:{password}@db.example:5432/class"
    for text in (url, f"{before} --db {url} --quiet"):
        hidden, left_out = hide_password(text), without_password(text)
        assert f":{password}@" not in hidden and f":{password}@" not in left_out
        assert f"postgresql+psycopg://{user}:***@db.example:5432/class" in hidden
        assert f"postgresql+psycopg://{user}@db.example:5432/class" in left_out


def test_a_url_without_a_password_is_unchanged():
    for url in ("postgresql://grader@db/class", "sqlite:////out/gradebook.db"):
        assert hide_password(url) == without_password(url) == url
