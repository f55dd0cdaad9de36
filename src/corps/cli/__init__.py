"""The ``corps`` command line: the only place that reads the environment and owns signals."""
