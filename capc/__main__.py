import sys

from capc.cli import main

sys.exit(main())
