"""stam."""
