"""Server-rendered pages (plain Python with escaping; no template engine needed)."""
