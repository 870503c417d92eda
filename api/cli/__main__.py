"""`python -m api.cli`: the `aqp` command."""

import sys

from api.cli import main

sys.exit(main())
