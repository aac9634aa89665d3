"""``python -m tinygan ...`` — the same as the ``tinygan`` command."""
import sys

from .cli import main

if __name__ == "__main__":  # not when a spawned worker process (tinygan demo) imports it
    sys.exit(main())
