"""ML system design mock interviewer."""

__version__ = "0.1.0"
