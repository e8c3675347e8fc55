"""`python -m bot`: run the Telegram bot until stopped."""

from __future__ import annotations

import sys

from .app import main

sys.exit(main())
