"""The pure core: no I/O, no frameworks. Everything here is tested without servers."""
