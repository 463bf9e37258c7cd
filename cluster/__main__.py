"""`python -m cluster`: the `simcluster` command from a checkout."""

from cluster.cli import main

main()
