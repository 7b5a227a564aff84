"""Routing (ACD): the pure engine in ``linia.routing.engine``; models, actions, dispatcher, API glue here (docs/routing.md)."""
