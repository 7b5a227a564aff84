from tests.webform.conftest import world  # noqa: F401  (fixture)
