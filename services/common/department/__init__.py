"""What every department service shares: its case store, the officer workflow, and how it
starts. Each department supplies its rules and records as a :class:`Department`."""
