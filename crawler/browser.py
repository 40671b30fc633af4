"""Debian's Chromium, as every part of xxgk launches it (listings, screenshots, browser tests).

`playwright install` cannot download here; Debian's build is used instead. Without the
background-networking flags Chromium keeps dialling Google's hosts on a closed network.
"""

from __future__ import annotations

import os

CHROMIUM_PATH = os.environ.get("XXGK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
