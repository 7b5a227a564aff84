from __future__ import annotations

import pytest
from django.utils import translation

from linia.core.errors import ActionError
from linia.tickets.actions import validate_custom_fields
from tests import factories

pytestmark = pytest.mark.django_db

SCHEMA = {"type": "object", "required": ["asset", "urgency"], "properties": {
    "asset": {"type": "string", "pattern": r"^[A-Z]{2}-\d{6}$", "examples": ["CH-000101"]},
    "urgency": {"type": "string", "enum": ["high", "low"]},
    "count": {"type": "integer", "minimum": 1},
}}


def _errors(values: dict[str, object], lang: str = "en") -> dict[str, list[str]]:
    category = factories.category(factories.tenant(), field_schema=SCHEMA)
    with translation.override(lang), pytest.raises(ActionError) as caught:
        validate_custom_fields(category, values)
    return caught.value.fields


def test_schema_errors_read_as_plain_sentences_not_as_jsonschema() -> None:
    errors = _errors({"asset": "fridge 7", "count": 0})
    assert errors == {
        "custom_fields.asset": ["This value does not have the expected format. For example: CH-000101."],
        "custom_fields.urgency": ["This field is required."],
        "custom_fields.count": ["The smallest allowed value is 1."],
    }
    assert _errors({"asset": "CH-000101", "urgency": "soon"}) == {
        "custom_fields.urgency": ["Choose one of: high, low."]}
    assert _errors({"asset": 7, "urgency": "low"}) == {"custom_fields.asset": ["Enter text."]}


@pytest.mark.parametrize(("lang", "required"), [("ru", "Обязательное поле."), ("pl", "To pole jest wymagane."),
                                                 ("fr", "Ce champ est obligatoire.")])
def test_schema_errors_speak_the_users_language(lang: str, required: str) -> None:
    errors = _errors({"asset": "x"}, lang)
    assert errors["custom_fields.urgency"] == [required]
    assert "CH-000101" in errors["custom_fields.asset"][0] and "expected format" not in errors["custom_fields.asset"][0]
