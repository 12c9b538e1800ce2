"""The ``onedoor`` command line."""
