"""``python -m corps`` runs the command line (the demo starts its children this way)."""

from corps.cli.main import main

main()
