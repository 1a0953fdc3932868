"""A minimal libvirt remote-protocol client in standard-library Python.

It speaks just enough of libvirt's RPC (XDR over a UNIX socket, 28-byte framing) to open a
connection, ask for the capabilities and domain capabilities and close again -- what a driver
needs to learn whether the host offers SEV and which machine types, without libvirt-python.
"""
import socket
import struct
import urllib.parse

REMOTE_PROGRAM = 0x20008086
PROGRAM_VERSION = 1
CALL, REPLY = 0, 1
STATUS_OK, STATUS_ERROR = 0, 1

# Procedure numbers of remote_protocol.x.
PROC_CONNECT_OPEN = 1
PROC_CONNECT_CLOSE = 2
PROC_CONNECT_GET_CAPABILITIES = 7
PROC_AUTH_LIST = 66
PROC_CONNECT_GET_DOMAIN_CAPABILITIES = 342

AUTH_NONE = 0
DEFAULT_SYSTEM_SOCKET = "/var/run/libvirt/libvirt-sock"
# URI parameters the client consumes; the daemon sees the URI without them.
CLIENT_PARAMS = {"socket", "mode", "name", "command", "netcat", "no_verify", "no_tty", "keyfile", "pkipath", "known_hosts", "auth"}
MAX_PACKET = 32 * 1024 * 1024 + 4


class LibvirtError(Exception):
    """An error the daemon answered with (code, domain and libvirt's full message)."""

    def __init__(self, code, domain, message):
        super().__init__(message)
        self.code, self.domain = code, domain


def parse_uri(uri):
    """'qemu+unix:///system?socket=P' -> (socket path, name for CONNECT_OPEN)."""
    parts = urllib.parse.urlsplit(uri)
    driver, _, transport = parts.scheme.partition("+")
    if not driver:
        raise ValueError(f"not a libvirt URI: {uri!r}")
    if transport not in ("", "unix"):
        raise ValueError(f"transport {transport!r} is not supported (only local UNIX sockets): {uri!r}")
    if parts.netloc:
        raise ValueError(f"remote hosts are not supported: {uri!r}")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    path = params.get("socket")
    if path is None:
        if parts.path != "/system":
            raise ValueError(f"no socket= given and no default socket for {uri!r}")
        path = DEFAULT_SYSTEM_SOCKET
    kept = urllib.parse.urlencode([(k, v) for k, v in query if k not in CLIENT_PARAMS])
    name = f"{driver}://{parts.path}" + (f"?{kept}" if kept else "")
    return path, name


def pack_uint(v):
    return struct.pack(">I", v)


def pack_string(s):
    data = s.encode("utf-8")
    return pack_uint(len(data)) + data + b"\0" * (-len(data) % 4)


def pack_opt_string(s):
    """remote_string: a pointer, absent (0) or present (1) followed by the string."""
    return pack_uint(0) if s is None else pack_uint(1) + pack_string(s)


class XdrReader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("XDR data ends early")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self):
        return struct.unpack(">I", self._take(4))[0]

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def string(self):
        n = self.uint()
        data = self._take(n)
        self._take(-n % 4)
        return data.decode("utf-8", errors="replace")

    def opt_string(self):
        return self.string() if self.uint() else None


class LibvirtConnection:
    """One connection to a libvirt daemon; use as a context manager."""

    def __init__(self, uri, timeout=20.0):
        path, self.name = parse_uri(uri)
        self.serial = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
            auth = XdrReader(self.call(PROC_AUTH_LIST))
            types = [auth.int() for _ in range(auth.uint())]
            if types and AUTH_NONE not in types:
                raise LibvirtError(-1, -1, f"authentication types {types} are not supported by this client")
            # Read-write: libvirt (since 5.4.1, CVE-2019-10167) refuses virConnectGetDomainCapabilities
            # on a read-only connection ('read only access prevents ...').
            self.call(PROC_CONNECT_OPEN, pack_opt_string(self.name) + pack_uint(0))
        except BaseException:
            self.sock.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.call(PROC_CONNECT_CLOSE)
        except (OSError, LibvirtError, ValueError):
            pass  # closing anyway
        finally:
            self.sock.close()

    def capabilities(self):
        """The host's capabilities XML (guest arches and the machine types QEMU offers)."""
        return XdrReader(self.call(PROC_CONNECT_GET_CAPABILITIES)).string()

    def domain_capabilities(self, arch=None, machine=None, virttype=None, emulatorbin=None):
        args = b"".join(pack_opt_string(s) for s in (emulatorbin, arch, machine, virttype)) + pack_uint(0)
        return XdrReader(self.call(PROC_CONNECT_GET_DOMAIN_CAPABILITIES, args)).string()

    def call(self, proc, payload=b""):
        serial = self.serial
        self.serial += 1
        header = struct.pack(">IIiIII", REMOTE_PROGRAM, PROGRAM_VERSION, proc, CALL, serial, STATUS_OK)
        self.sock.sendall(struct.pack(">I", 4 + len(header) + len(payload)) + header + payload)
        while True:
            prog, _vers, rproc, rtype, rserial, status, body = self._read_packet()
            # Skip keepalive and event messages; only our reply ends the wait.
            if prog == REMOTE_PROGRAM and rtype == REPLY and rserial == serial and rproc == proc:
                break
        if status == STATUS_ERROR:
            r = XdrReader(body)
            code, domain, message = r.int(), r.int(), r.opt_string()
            raise LibvirtError(code, domain, message or f"libvirt error {code}")
        return body

    def _read_packet(self):
        (length,) = struct.unpack(">I", self._recv(4))
        if length < 28 or length > MAX_PACKET:
            raise ValueError(f"bad packet length {length}")
        data = self._recv(length - 4)
        return struct.unpack(">IIiIII", data[:24]) + (data[24:],)

    def _recv(self, n):
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise ConnectionError("libvirt closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
