"""``python -m store``: the ``blobctl`` command line."""

import sys

from .cli import main

sys.exit(main())
