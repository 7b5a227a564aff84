"""Pages the demo serves for trying the customer side: a shop page with the chat widget and web forms."""

from __future__ import annotations

from typing import Any

app_name = "shop"
urlpatterns: list[Any] = []
