"""Class-based views (being written)."""
