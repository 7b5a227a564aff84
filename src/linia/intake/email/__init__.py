"""Email channel: parsing (parse.py, pure), ingestion, threading, IMAP polling and the SMTP server."""
