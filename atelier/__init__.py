"""atelier: the Atelier retail backend (legacy CSV loader, generator and HTTP API)."""

__version__ = "0.1.0"
