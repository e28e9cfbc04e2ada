"""Free-form queries: a leading removal phrase means "remove the sound that follows"."""

from __future__ import annotations

import pytest

from livesep.errors import QueryError
from livesep.text import ParsedQuery, parse_query


@pytest.mark.parametrize(
    ("query", "text", "remove"),
    [
        ("a dog", "a dog", False),
        ("barking", "barking", False),
        ("isolate the dog barking", "isolate the dog barking", False),  # a training caption
        ("keep only the piano", "keep only the piano", False),
        ("remove the dog", "the dog", True),
        ("  Remove   the dog.  ", "the dog", True),
        ("please get rid of the hum, please!", "the hum", True),
        ("without: rain", "rain", True),
        ("no traffic noise", "traffic noise", True),
        ("mute the drums", "the drums", True),
        ("filter out keyboard typing", "keyboard typing", True),
        ("remove all the birds", "the birds", True),
        # Words that only start like a removal phrase, or a phrase alone, stay as typed.
        ("noise", "noise", False),
        ("removed furniture", "removed furniture", False),
        ("the sound of no one", "the sound of no one", False),
        ("remove", "remove", False),
        ("no!", "no!", False),
    ],
)
def test_parse_query(query: str, text: str, remove: bool) -> None:
    assert parse_query(query) == ParsedQuery(text, remove)


@pytest.mark.parametrize("query", ["", "   ", None])
def test_empty_query_is_an_error(query: object) -> None:
    with pytest.raises(QueryError):
        parse_query(query)  # type: ignore[arg-type]
