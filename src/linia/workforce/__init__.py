"""Workforce tools: the traffic simulator (`linia simulate`) that drives the contact center like a PBX,
chat customers and agents would."""
