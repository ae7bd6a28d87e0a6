"""Export readers: one module per format behind the `Reader` interface in `base.py`."""
