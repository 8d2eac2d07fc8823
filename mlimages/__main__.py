"""``python -m mlimages`` runs the command line."""
import sys

from mlimages.cli import main

sys.exit(main())
