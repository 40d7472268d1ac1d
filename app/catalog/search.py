"""Product search: `$text` on a server's text index, or regular expressions where there is none.

On a MongoDB server the `search` text index answers `?q=` (name weighted above brand above
description, Snowball-stemmed words, ranked by text score). The embedded engine has no `$text`,
nor do servers that refuse text indexes (SecantusDB), and SEARCH_MODE=regex turns it off: there
the same words become case-insensitive, escaped, whole-word regular expressions over
the same three fields that accept the usual English inflections ("shoes" finds "shoe",
"hiking" finds "hike"), ranked by the same weights. On the demo data both find the same
products (tests/catalog/test_demo.py); derivations a stemmer folds and these patterns do not
("comfortable" -> "comfort") are the known difference.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pymongo.errors import OperationFailure
from quart import Quart, current_app

from app.catalog.models import Product  # the model declares the text index
from app.core import db
from config import Settings

log = logging.getLogger("app.catalog.search")

# The text index's weights (see Product.Settings.indexes); the fallback ranks with them too.
WEIGHTS = {"name": 10, "brand": 5, "description": 1}
SCORE = "_score"
MAX_TERMS = 8
_WORD = re.compile(r"\w+")
# Words the server's text index ignores (a common subset of MongoDB's English list), dropped
# on both engines so neither matches them.
STOP_WORDS = frozenset(
    "about above after again all am an and any are as at be because been before being below "
    "between both but by can did do does doing during each few for from further had has have "
    "having he her here hers him his how if in into is it its just me more most my no nor not "
    "now of off on once only or other our ours out over own same she should so some such than "
    "that the their theirs them then there these they this those through to too under until up "
    "very was we were what when where which while who whom why will with you your yours".split()
)
# What may follow a word's stem: plural, -ed/-ing forms (with a doubled consonant), -y/-ies.
_INFLECTION = r"(?:s|es|e|ed|d|ing|ies|y|[b-df-hj-np-tv-z](?:ing|ed))?"
_SUFFIXES = ("ing", "ies", "es", "ed", "s", "y")


def terms_of(q: str) -> list[str]:
    """The words of a query, lower-cased, without duplicates or one-letter noise.

    Quotes and leading dashes (phrase and negation syntax of `$text`) are dropped, so both
    engines see the same plain words.
    """
    words: list[str] = []
    for word in _WORD.findall(q.casefold()):
        if len(word) > 1 and word not in STOP_WORDS and word not in words:
            words.append(word)
    return words[:MAX_TERMS]


@dataclass(frozen=True)
class SearchPlan:
    """How to run one product query: filter, sort, and extra projection for the score."""

    filter: dict[str, Any]
    sort: list[tuple[str, Any]]
    projection: dict[str, Any] = field(default_factory=dict)
    # The fallback's relevance order: one pattern per search word; each match in a field adds
    # that field's weight (as each matched word adds to the text score on a server).
    rank: tuple[str, ...] = ()


def plan(
    *,
    filters: dict[str, Any],
    terms: list[str] | None,
    sort: list[tuple[str, Any]] | None,
    text_index: bool,
) -> SearchPlan:
    """Combine the catalog filters with the search words (if any) for one engine.

    `sort=None` means "by relevance" and needs `terms`. Pure: unit-tested for both engines.
    """
    if not terms:
        if sort is None:
            raise ValueError("relevance order needs search terms")
        return SearchPlan(filter=dict(filters), sort=sort)
    if text_index:
        query = {**filters, "$text": {"$search": " ".join(terms)}}
        if sort is not None:
            return SearchPlan(filter=query, sort=sort)
        meta = {"$meta": "textScore"}
        return SearchPlan(filter=query, sort=[(SCORE, meta), ("_id", 1)], projection={SCORE: meta})
    # Any word in any of the three fields: one alternation per field keeps it to three regexes.
    any_word = word_pattern(*terms)
    query = {
        **filters,
        "$or": [{name: {"$regex": any_word, "$options": "i"}} for name in WEIGHTS],
    }
    if sort is not None:
        return SearchPlan(filter=query, sort=sort)
    return SearchPlan(
        filter=query, sort=[(SCORE, -1), ("_id", 1)], rank=tuple(word_pattern(t) for t in terms)
    )


def stem(term: str) -> str:
    """A crude English stem: "shoes" -> "sho", "hiking" -> "hik", "running" -> "run",
    "battery" -> "batter".

    Only what `_INFLECTION` can put back; the pattern then matches every form of the word.
    """
    for suffix in _SUFFIXES:
        root = term[: -len(suffix)]
        if not term.endswith(suffix) or len(root) < 3:
            continue
        if suffix == "es" and not root.endswith(("s", "x", "z", "ch", "sh")):
            continue
        if suffix == "s" and root.endswith(("s", "u", "i")):
            continue
        if suffix == "y" and root.endswith(("a", "e", "o", "u")):
            continue
        if suffix in ("ing", "ed") and len(root) > 3 and root[-1] == root[-2] not in "lsz":
            root = root[:-1]
        term = root
        break
    return term[:-1] if term.endswith("e") and len(term) > 3 else term


def word_pattern(*terms: str) -> str:
    """Any of the words, whole, in any inflected form: "shoe" finds "Shoes", not "Shoesmith"."""
    stems = "|".join(re.escape(stem(term)) for term in terms)
    return rf"\b(?:{stems}){_INFLECTION}\b"


def score(row: dict, patterns: list[re.Pattern]) -> int:
    """The fallback's relevance of one document: the weights of the fields each word is in."""
    return sum(
        weight
        for pattern in patterns
        for name, weight in WEIGHTS.items()
        if pattern.search(row.get(name) or "")
    )


async def find_page(
    collection, search: SearchPlan, *, projection: dict, skip: int, limit: int
) -> tuple[list[dict], int]:
    """Run a plan: the page's documents (projected) and the total number of matches."""
    if not search.rank:
        total = await collection.count_documents(search.filter)
        if total <= skip:
            return [], total
        cursor = collection.find(
            search.filter,
            {**projection, **search.projection},
            sort=search.sort,
            skip=skip,
            limit=limit,
        )
        return await cursor.to_list(), total
    # The fallback ranks in Python: the embedded engine holds a small catalog, and reading the
    # matches once gives both the total and the order.
    fields = {**projection, **dict.fromkeys(WEIGHTS, 1)}
    rows = await collection.find(search.filter, fields).to_list()
    patterns = [re.compile(p, re.IGNORECASE) for p in search.rank]
    rows.sort(key=lambda row: (-score(row, patterns), row["_id"]))
    extra = set(WEIGHTS) - set(projection)
    page = [{k: v for k, v in row.items() if k not in extra} for row in rows[skip : skip + limit]]
    return page, len(rows)


# -- the search mode: decided once per app at start-up, from SEARCH_MODE and the server

SearchMode = Literal["text", "regex"]
EXTENSION = "shop.search_mode"  # the app's SearchMode, in app.extensions
_MODES: dict[SearchMode, str] = {
    "text": "text ($text on the text index)",
    "regex": "regex (whole-word regular expressions; no text index)",
}
# The server cannot build that index (SecantusDB answers this to a text index).
CANNOT_CREATE_INDEX = 67


async def init_search(app: Quart, settings: Settings) -> SearchMode:
    """Decide how `?q=` runs for `app` (after `db.init_db`), and create the text index when
    it is used.

    The embedded engine has no `$text`, and SEARCH_MODE=regex leaves the index out: regex.
    SEARCH_MODE=text creates the index, and a refusal is fatal. "auto" creates it, and a
    server that refuses it with CannotCreateIndex switches search to regex, saying why in the
    log, instead of failing to start."""
    chosen: SearchMode = "regex"
    if not db.get_db(app).embedded and settings.SEARCH_MODE != "regex":
        declared = Product.get_settings().indexes
        text_indexes = [index.index for index in declared if db.is_text_index(index)]
        try:
            if text_indexes:
                await Product.get_pymongo_collection().create_indexes(text_indexes)
        except OperationFailure as error:
            if settings.SEARCH_MODE != "auto" or error.code != CANNOT_CREATE_INDEX:
                raise
            log.warning(
                "product search: regex (this server refuses text indexes: error %s: %s); set "
                "SEARCH_MODE=text to require $text instead",
                error.code,
                (error.details or {}).get("errmsg") or str(error),
            )
            app.extensions[EXTENSION] = chosen
            return chosen
        chosen = "text"
    log.info("product search: %s", _MODES[chosen])
    app.extensions[EXTENSION] = chosen
    return chosen


def mode() -> SearchMode:
    """How `?q=` runs in the app in context (`/ready` reports it)."""
    found: SearchMode = current_app.extensions[EXTENSION]
    return found


def uses_text_index() -> bool:
    """Whether `?q=` runs on `$text`: decided once at start-up (see init_search)."""
    return mode() == "text"
