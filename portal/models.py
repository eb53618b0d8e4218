"""The customer portal has no tables yet."""
