"""omnigate: a PII-masking, identity-stamping reverse proxy for chat and support APIs."""

__version__ = "0.1.0"
