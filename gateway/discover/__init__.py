"""`omnigate discover` (SPEC 1): PII paths in recorded traffic, covered by the rules or not."""

from gateway.discover.report import discover

__all__ = ["discover"]
