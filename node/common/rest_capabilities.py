"""What this node's REST layer can answer, for `GET /_capabilities` (ES `RestController#checkSupported`).

ES's capabilities action asks each node's `RestController` whether it has a handler for a method and path that
accepts the given parameters and capabilities. Here the REST app is built after the node's services, so it installs
its check into this holder once its routes exist; until then (or in a node without a REST layer) nothing is
supported.
"""

from __future__ import annotations

from collections.abc import Callable, Set

__all__ = ["CapabilityCheck", "RestCapabilities"]

CapabilityCheck = Callable[[str, str, Set[str], Set[str]], bool]


class RestCapabilities:
    """Holds the REST layer's answer to "is `METHOD path` with these parameters and capabilities supported?"."""

    __slots__ = ("_check",)

    def __init__(self) -> None:
        self._check: CapabilityCheck | None = None

    def install(self, check: CapabilityCheck) -> None:
        self._check = check

    def supported(self, method: str, path: str, parameters: Set[str], capabilities: Set[str]) -> bool:
        return self._check is not None and self._check(method, path, parameters, capabilities)
