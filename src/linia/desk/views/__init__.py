"""Agent desk views (server-rendered Django templates with htmx for partial updates)."""
