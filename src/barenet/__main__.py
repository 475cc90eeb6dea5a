"""``python -m barenet`` is the ``barenet`` command."""

import sys

from barenet.app.cli import main

sys.exit(main())
