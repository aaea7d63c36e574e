"""`python -m sandbox ...` is `cio-sandbox ...`."""

import sys

from sandbox.cli import main

sys.exit(main())
