"""Pricing: the one pure function that turns a cart into money (app/pricing/engine.py)."""
