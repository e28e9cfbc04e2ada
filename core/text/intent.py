"""What a free-form query asks for: the sound it describes, and whether to keep or remove it.

Users type "remove the dog", "without the traffic", "get rid of the hum" as often as "a dog".
The text encoder embeds descriptions of sounds, and an instruction to remove a sound
embeds close to the sound itself, so a host that embedded it as written would extract
exactly what the user asked to drop. `parse_query` splits off a leading removal phrase:
the rest is embedded, and the host removes that sound (mixture - extract) instead.

Keep-phrases ("isolate X", "keep only X", "extract X") are left as they are: the model
was trained on captions of that shape, and they mean "extract", the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from livesep.text.base import validate_query

__all__ = ["ParsedQuery", "REMOVE_PHRASES", "parse_query"]

# Leading phrases that mean "remove the rest". Longest first, so "remove all" wins over
# "remove"; matched case-insensitively as whole words.
REMOVE_PHRASES = (
    "get rid of",
    "filter out",
    "take out",
    "cut out",
    "remove all",
    "remove",
    "without",
    "suppress",
    "eliminate",
    "mute",
    "cancel",
    "no more",
    "no",
)
_LEADING = re.compile(
    r"^\s*(?:please\s+)?(?:" + "|".join(re.escape(p) for p in REMOVE_PHRASES) + r")\b[\s,:]*",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"[\s,.!]*(?:\bplease)?[\s.!]*$", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into the sound it describes and what to do with it."""

    text: str  # the description to embed ("the dog")
    remove: bool  # True: the query asked to remove that sound


def parse_query(query: str) -> ParsedQuery:
    """Split a leading removal phrase off a query.

    "remove the dog" -> ("the dog", remove), "no traffic noise" -> ("traffic noise",
    remove), "a dog barking" / "isolate the dog" -> unchanged, extract. A query that is only
    a removal word ("remove", "no") is a description in its own right and stays as typed.

    Raises:
        QueryError: an empty or whitespace-only query.
    """
    text = validate_query(query)
    match = _LEADING.match(text)
    if match is None:
        return ParsedQuery(text, remove=False)
    rest = _TRAILING.sub("", text[match.end() :]).strip()
    if not rest:
        return ParsedQuery(text, remove=False)
    return ParsedQuery(rest, remove=True)
