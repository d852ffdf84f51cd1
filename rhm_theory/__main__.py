"""``python -m rhm_theory``: the same as the ``rhm-theory`` command."""

import sys

from rhm_theory.cli import main

sys.exit(main())
