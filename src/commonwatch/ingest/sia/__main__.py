"""`python -m commonwatch.ingest.sia`: the receiver alone, without the top-level CLI."""

from __future__ import annotations

import sys

from commonwatch.ingest.sia.cli import main

sys.exit(main())
