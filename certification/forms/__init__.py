"""Forms of the product, one module per area."""
