"""alphaction-demo: real-time multi-person video action detection (AlphAction, ECCV 2020)."""

__version__ = "0.1.0"
