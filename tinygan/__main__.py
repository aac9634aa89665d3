"""``python -m tinygan ...`` — the same as the ``tinygan`` command."""
import sys

from .cli import main

sys.exit(main())
