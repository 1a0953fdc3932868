"""JSON lines on the protocol's stdout, kept apart from everything else the process prints.

nova, oslo and libvirt may write to file descriptor 1; the protocol owns stdout, so the real
stdout is duplicated for the protocol and descriptor 1 is pointed at stderr before nova loads.
"""
import json
import os
import sys


class Wire:
    def __init__(self):
        self._out = os.fdopen(os.dup(1), 'w', encoding='utf-8', buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._in = sys.stdin.buffer

    def read(self):
        """The next request line (bytes), or None at end of input."""
        while True:
            line = self._in.readline()
            if not line:
                return None
            if line.strip():
                return line

    def send(self, message):
        self._out.write(json.dumps(message, separators=(',', ':')) + '\n')
        self._out.flush()


class ProtocolError(Exception):
    """A protocol-level failure (not a refusal): BAD_REQUEST, UNKNOWN_OP, INTERNAL."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Refusal(Exception):
    """A refusal the suite judges: a stable code from refusal-codes.ts and a human text."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def require(params, key, kind):
    """params[key] with the given Python type, or BAD_REQUEST."""
    if not isinstance(params, dict) or key not in params:
        raise ProtocolError('BAD_REQUEST', f'missing parameter {key!r}')
    value = params[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError('BAD_REQUEST', f'parameter {key!r} must be {getattr(kind, "__name__", kind)}')
    return value
