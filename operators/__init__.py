"""Small, pure steps over Arrow tables or document dicts. No Ray here (DESIGN.md)."""
