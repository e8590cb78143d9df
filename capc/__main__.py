import sys

from capc.cli import main

# Guarded: worker processes spawned by capc.jobs import the main module as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
