from __future__ import annotations

import os

os.environ.setdefault("LINIA_FAST_PASSWORDS", "1")
