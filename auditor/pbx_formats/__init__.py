"""Example `--cdr-format` files for PBXs without a reader of their own (TOML, shipped as data)."""
