"""`python -m studio`: the same entry point as the `face-studio` console script."""

import sys

from studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
