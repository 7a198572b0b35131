"""consilium: a local council of role agents that debates your coding task."""

__version__ = "0.1.0"
