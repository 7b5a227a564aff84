"""Settings of a real `linia worker` process in the worker test: Linia's, with the capture server as relay."""

from __future__ import annotations

import os

from linia.settings import *  # noqa: F403

EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["LINIA_TEST_SMTP_PORT"])
EMAIL_REPLY_DOMAIN = "linia.test"
