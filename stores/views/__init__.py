"""The stores app's dashboard pages, one module per section (``stores/urls.py`` names them).
What every app's dashboard pages share is in ``stores.dashboard``."""
