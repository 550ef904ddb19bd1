"""Throttles for the machine endpoints."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle

from zwadmin.security import client_ip


class UnknownCodeLookupThrottle(SimpleRateThrottle):
    """Limits how many *distinct* unknown codes one client address may look up.

    Only misses count, and each unknown code counts once per window, so a
    company's hundreds of clients behind one NAT address (all asking for their
    one valid code at 9:00, or a few clients retrying a mistyped code) are never
    refused. An address that has probed more distinct unknown codes than the
    rate allows is refused every lookup until the window passes, known codes
    included: otherwise a 200 among the 429s would still tell an enumerator
    which codes exist.
    """

    scope = "lookup_unknown"

    def get_ident(self, request):
        # The one client address of the project (zwadmin.security): DRF's own trusts a client-written
        # X-Forwarded-For when NUM_PROXIES is unset.
        return client_ip(request) or ""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def is_exhausted(self, history: list[float] | None) -> bool:
        """Whether ``history`` (this throttle's cached list) leaves no room, without recording anything.

        Sets ``now`` and ``history`` as ``allow_request`` does, so ``wait()`` can tell the client when to retry.
        """
        self.now = self.timer()
        self.history = [moment for moment in history or [] if moment > self.now - self.duration]
        return len(self.history) >= self.num_requests

    def record_unknown_code(self, request, view, code: str) -> bool:
        """Count a miss on ``code``; False when the address has now used up its allowance."""
        key = self.get_cache_key(request, view)
        seen_key = f"{key}:seen:{hashlib.blake2b(code.encode(), digest_size=12).hexdigest()}"
        if not self.cache.add(seen_key, 1, self.duration):
            return not self.is_exhausted(self.cache.get(key))
        return self.allow_request(request, view)
