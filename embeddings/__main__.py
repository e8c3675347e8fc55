"""`python -m embeddings`: the Sanad command line."""

import sys

from .cli import main

sys.exit(main())
