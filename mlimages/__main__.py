"""``python -m mlimages`` runs the command line."""
from mlimages.cli import program

program()
