"""Shipped `--records-format` files for your own records (TOML, shipped as data)."""
