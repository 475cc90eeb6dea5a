"""``python -m barenet`` is the ``barenet`` command."""

import sys

from barenet.cli import main

sys.exit(main())
