"""The text detector: phones and emails as people type them, as spans of the original text.

Public API (compile once, call on every string):

    detector = Detector(default_region="US", text_regions=("DE", "BR"))
    detector.glance(text) -> bool               # cheapest: False means find() returns []
    detector.screen(text) -> Screen             # exact: which passes can find anything
    detector.may_contain(text) -> bool          # any(screen(text))
    detector.find(text, screen=None) -> list[Finding]   # Finding(start, end, kind, value)
    national_digits("+1 (415) 555-7890", "US")  # "4155557890": what known values match on

See detector.py for the order of the passes and normalise.py for what the detector reads.
"""

from gateway.detect.detector import Detector, Screen
from gateway.detect.finding import EMAIL, PHONE, Finding
from gateway.detect.phones import national_digits

__all__ = ["EMAIL", "PHONE", "Detector", "Finding", "Screen", "national_digits"]
