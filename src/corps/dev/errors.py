"""What can go wrong while provisioning the local stack, each error saying what to do about it."""

from __future__ import annotations

from corps.errors import CorpsError

__all__ = ["ProvisionError", "ResolveError", "ServiceStartError", "ToolMissingError"]


class ProvisionError(CorpsError):
    """The local development stack could not be provisioned, started or stopped."""


class ToolMissingError(ProvisionError):
    """A program the provisioner needs (``java``, ``mvn``) is not installed or not on the PATH."""


class ResolveError(ProvisionError):
    """Maven could not resolve the broker or registry artifacts; the message carries mvn's output tail.

    Often a network hiccup, so it is retriable.
    """

    retriable = True


class ServiceStartError(ProvisionError):
    """A service died at start or never became ready; the message carries the tail of its log."""
