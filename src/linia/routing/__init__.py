"""Routing (ACD): the pure engine lives in ``linia.routing.engine``; Django glue comes later."""
