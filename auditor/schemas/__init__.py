"""pandera (polars backend) schemas, one per canonical frame. Shipped inside the package so that a
plain `pip install .` carries them (no stray top-level `schemas` module in site-packages)."""
