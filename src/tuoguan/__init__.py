"""tuoguan (托管): the platform side of a managed-fulfillment marketplace."""

__version__ = "0.1.0"
