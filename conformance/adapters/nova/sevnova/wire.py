"""JSON lines on the protocol's stdout, kept apart from everything else the process prints.

nova, oslo and libvirt may write to file descriptor 1; the protocol owns stdout, so the real
stdout is duplicated for the protocol and descriptor 1 is pointed at stderr before nova loads.
"""
import json
import os
import sys


class Wire:
    """Protocol lines in on `in_fd`, out on `out_fd` (by default: stdin, and a private copy of stdout)."""

    def __init__(self, in_fd=0, out_fd=None):
        if out_fd is None:
            out_fd = os.dup(1)
            os.dup2(2, 1)
        sys.stdout = sys.stderr
        self.out_fd = out_fd
        self._out = os.fdopen(out_fd, 'w', encoding='utf-8', buffering=1, closefd=False)
        self._in_fd = in_fd
        self._in = None

    def read_unbuffered(self):
        """One line read byte by byte, so nothing after it leaves the pipe (the fork server reads on)."""
        chunks = []
        while True:
            byte = os.read(self._in_fd, 1)
            if not byte:
                return b''.join(chunks) or None
            chunks.append(byte)
            if byte == b'\n':
                return b''.join(chunks)

    def read(self):
        """The next request line (bytes), or None at end of input."""
        if self._in is None:
            self._in = os.fdopen(self._in_fd, 'rb', closefd=False)
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
