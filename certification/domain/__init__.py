"""Every state change of the product is one function in this package. See STYLE.md, habit 1."""
