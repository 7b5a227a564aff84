"""Channel adapters that turn outside events (PBX, email, chat, ...) into interactions and tasks."""
