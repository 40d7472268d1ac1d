"""Request models say in their JSON Schema exactly what their validators enforce.

Clients and schemathesis read the schema; the server runs the validators. Here both judge the
same generated inputs and must agree (tests/contract runs the whole API the same way).
"""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, StringConstraints, ValidationError

from app.auth.passwords import MAX_BYTES, MIN_LENGTH, NEW_PASSWORD_SCHEMA, password_problem
from app.auth.schemas import AddressIn, RegisterIn
from app.core.schemas import DateTimeQuery, InModel, PositiveQuantity, QueryModel
from app.reviews.schemas import ReviewIn

# Text with the characters that trip trimming and character rules, and plenty of plain ones.
TRICKY = st.sampled_from(list(" \t\n\r\x0b\x0c\x85\xa0\u2028\u2029\u202e\u3000\x00\x1c\x7f<a/!"))
TEXT = st.lists(st.one_of(TRICKY, st.characters(codec="utf-8")), max_size=8).map("".join)


class Short(InModel):
    name: Annotated[str, StringConstraints(min_length=2, max_length=5)]


def _accepts(model: type[BaseModel], **fields) -> bool:
    try:
        model.model_validate(fields)
    except ValidationError:
        return False
    return True


def _pattern(model: type[BaseModel], field: str) -> re.Pattern:
    return re.compile(model.model_json_schema()["properties"][field]["pattern"])


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXT)
def test_a_trimmed_length_pattern_agrees_with_trimming_then_checking(text):
    assert bool(_pattern(Short, "name").search(text)) == _accepts(Short, name=text)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXT)
def test_review_title_pattern_agrees_with_its_validator(text):
    schema = ReviewIn.model_json_schema()
    pattern = re.compile(schema["properties"]["title"]["pattern"])
    assert bool(pattern.search(text)) == _accepts(ReviewIn, rating=5, title=text)


def _string_pattern(model: type[BaseModel], field: str) -> re.Pattern:
    """The pattern of a string field, optional (`anyOf` with null) or not."""
    prop = model.model_json_schema()["properties"][field]
    (string,) = [option for option in prop.get("anyOf", [prop]) if option.get("type") == "string"]
    return re.compile(string["pattern"])


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXT)
def test_name_patterns_agree_with_the_plain_text_validator(text):
    # Names follow review titles' plain-text rule (markup refused): one rule, one pattern,
    # wherever a name is taken.
    from app.orders.schemas import ShippingAddressIn
    from app.users.schemas import ProfileUpdate

    address = {"line1": "1 Main St", "city": "Town", "postal_code": "12345", "country": "US"}
    account = {"email": "ada@example.com", "password": "Zebra-Cactus-9"}
    for model, others in ((ProfileUpdate, {}), (RegisterIn, account), (ShippingAddressIn, address)):
        matches = bool(_string_pattern(model, "name").search(text))
        assert matches == _accepts(model, **others, name=text), model.__name__


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXT)
def test_address_fields_patterns_agree(text):
    base = {"line1": "1 Main St", "city": "Town", "postal_code": "12345", "country": "US"}
    for field in ("city", "country", "postal_code"):
        schema = AddressIn.model_json_schema()["properties"][field]
        matches = bool(re.search(schema["pattern"], text))
        assert matches == _accepts(AddressIn, **{**base, field: text}), field


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(min_size=0, max_size=80))
def test_the_password_schema_never_promises_what_the_rules_refuse(password):
    schema_ok = (
        MIN_LENGTH <= len(password) <= MAX_BYTES
        and re.search(NEW_PASSWORD_SCHEMA["pattern"], password) is not None
    )
    accepted = password_problem(password) is None and "\x00" not in password
    if accepted:
        assert schema_ok  # the schema never refuses a password the server takes
    if not schema_ok:
        assert not accepted


class Counts(InModel):
    quantity: PositiveQuantity


def test_an_integer_is_a_json_integer_and_the_schema_says_so():
    assert Counts.model_validate({"quantity": 3}).quantity == 3
    for bad in (3.0, 2.5, True, "3", None, float("inf")):
        assert not _accepts(Counts, quantity=bad), bad
    # JSON Schema's "integer" takes 3.0, so the description has to say it.
    described = Counts.model_json_schema()["properties"]["quantity"]["description"]
    assert "5, not 5.0" in described


class Tags(InModel):
    tags: list[str]
    labels: dict[str, str] = {}


@pytest.mark.parametrize(
    "fields",
    [
        {"tags": ["ok", "n\x00l"]},
        {"tags": [], "labels": {"k": "v\x00"}},
        {"tags": [], "labels": {"k\x00": "v"}},
    ],
)
def test_nul_is_refused_inside_lists_and_dicts(fields):
    assert not _accepts(Tags, **fields)


class Window(QueryModel):
    since: DateTimeQuery | None = None


@pytest.mark.parametrize("text", ["0.5", "1767225600", "yesterday", "2026-13-01T00:00:00Z"])
def test_a_query_date_time_is_rfc3339_text(text):
    assert not _accepts(Window, since=text)


def test_a_query_date_time_is_utc_whatever_its_offset():
    aware = Window.model_validate({"since": "2026-03-01T15:00:00+02:00"}).since
    naive = Window.model_validate({"since": "2026-03-01T13:00:00"}).since
    assert aware == naive and aware.utcoffset().total_seconds() == 0


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXT)
def test_catalog_query_schemas_agree_with_blank_as_absent_and_trimming(text):
    # jsonschema_rs (schemathesis's validator, Rust regexes): a second regex engine.
    import jsonschema_rs

    from app.catalog.schemas import ProductQuery

    properties = ProductQuery.model_json_schema()["properties"]
    for field in ("brand", "sort", "category", "q"):
        valid = jsonschema_rs.is_valid(properties[field], text)
        assert valid == _accepts(ProductQuery, **{field: text}), (field, text)
