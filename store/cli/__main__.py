"""``python -m store.cli``: the ``blobctl`` command line (as ``python -m store``)."""

import sys

from . import main

sys.exit(main())
