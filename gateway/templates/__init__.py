"""Server-rendered pages: Jinja2 templates (autoescaped) with their stylesheet and the
signed content they show (om_ai.html, om_ai.css, om_ai.yml; rendered by om_ai.py)."""
