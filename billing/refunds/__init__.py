"""Refunds (written on main; this placeholder lets the dashboard pages import it until then)."""
