"""``python -m flows.cli``: the same as the ``newsvault`` console script."""

import sys

from flows.cli.main import main

sys.exit(main())
