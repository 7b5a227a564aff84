"""Outbound dispatch: webhooks (and, from the forwarding helper, outbound email)."""
