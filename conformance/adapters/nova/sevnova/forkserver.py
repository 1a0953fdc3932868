"""A fork server: nova imported once, every adapter process served by a fork of that image.

Importing nova, eventlet's monkey patching and the process set-up of `runtime.load()` cost seconds
per process, and the conformance runner starts a fresh adapter process after every error, explicit
restart and fleet. nova-compute does that set-up once per process, so it is done once here too: a
background server imports nova, then forks one child per adapter process. The child takes over the
adapter's stdin, protocol stdout and stderr (passed over a UNIX socket) and runs the same protocol
loop, on a fresh eventlet hub and with no nova service created before the fork. What nova code runs
for a request is unchanged; only the imports are shared.

    driver.py (answers hello) ──fds──▶ server ──fork──▶ monitor ──fork──▶ driver child
                               ◀──exit code──────────────┘

The monitor kills the child when the adapter process goes away (the runner's SIGKILL after a
timeout) and sends the child's exit code back. The server exits after IDLE_SECONDS without a
client; its socket is keyed by the adapter's source, so an edited adapter never meets a stale
server. SEVHARNESS_NOVA_FORKSERVER=0 turns it off (every process imports nova itself).
"""
import _socket
import array
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

#: The server exits after this long without a new adapter process.
IDLE_SECONDS = 60
#: How long a client waits for a server that is still starting.
CONNECT_SECONDS = 60

_HERE = os.path.dirname(os.path.abspath(__file__))


def socket_path():
    """Per user and per adapter source (driver.py and sevnova/*.py) and interpreter."""
    digest = hashlib.sha256(sys.executable.encode())
    files = [os.path.join(_HERE, '..', 'driver.py')] + sorted(
        os.path.join(_HERE, f) for f in os.listdir(_HERE) if f.endswith('.py'))
    for f in files:
        with open(f, 'rb') as fh:
            digest.update(f.encode() + b'\0' + fh.read())
    return os.path.join(tempfile.gettempdir(), f'sevharness-nova-{os.getuid()}-{digest.hexdigest()[:16]}.sock')


def _connect(path):
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(path)
        return conn
    except OSError:
        conn.close()
        return None


def _start_server(path, driver_path):
    subprocess.Popen(
        [sys.executable, driver_path, '--fork-server', path],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True)


def _server_connection(path, driver_path):
    conn = _connect(path)
    if conn is not None:
        return conn
    # One client starts the server; the others wait on the lock and then connect.
    with open(path + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = _connect(path)
        if conn is not None:
            return conn
        try:
            os.unlink(path)  # a server that died left its socket behind
        except FileNotFoundError:
            pass
        _start_server(path, driver_path)
        deadline = time.monotonic() + CONNECT_SECONDS
        while time.monotonic() < deadline:
            conn = _connect(path)
            if conn is not None:
                return conn
            time.sleep(0.02)
    return None


def run_forked(out_fd, driver_path):
    """Hands this process's protocol descriptors to a forked driver and waits for its exit code.

    None when no server can be reached (the caller then serves in-process).
    """
    try:
        conn = _server_connection(socket_path(), driver_path)
    except OSError:
        conn = None
    if conn is None:
        return None
    message = json.dumps({'cwd': os.getcwd(), 'profile': os.environ.get('SEVHARNESS_NOVA_PROFILE')}).encode()
    conn.sendmsg([message], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array('i', [0, out_fd, 2]))])
    answer = b''
    while True:
        chunk = conn.recv(64)
        if not chunk:
            break
        answer += chunk
    try:
        return int(answer)
    except ValueError:
        return 1  # the monitor died without a word


def _receive(conn):
    fds = array.array('i')
    msg, ancdata, _flags, _addr = conn.recvmsg(4096, _socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
    if len(fds) != 3:
        raise OSError('expected stdin, protocol and stderr descriptors')
    return json.loads(msg or b'{}'), list(fds)


def _become_driver(fds, message, serve_fn):
    import eventlet.hubs
    from sevnova.wire import Wire

    stdin_fd, out_fd, err_fd = fds
    os.dup2(stdin_fd, 0)
    os.dup2(err_fd, 2)
    os.dup2(err_fd, 1)
    for fd in (stdin_fd, err_fd):
        if fd > 2:
            os.close(fd)
    os.chdir(message.get('cwd') or '/')
    if message.get('profile'):
        os.environ['SEVHARNESS_NOVA_PROFILE'] = message['profile']
    else:
        os.environ.pop('SEVHARNESS_NOVA_PROFILE', None)
    # The server's eventlet hub (made while nova imported) shares its epoll descriptor with every
    # fork: drop it, so this child's first green wait makes its own.
    if hasattr(eventlet.hubs._threadlocal, 'hub'):
        del eventlet.hubs._threadlocal.hub
    code = 1
    try:
        code = serve_fn(Wire(0, out_fd)) or 0
    finally:
        sys.stderr.flush()
        os._exit(code)


def _monitor(conn, serve_fn):
    """Forks the driver child, kills it if the adapter process goes away, reports its exit code."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    message, fds = _receive(conn)
    pid = os.fork()
    if pid == 0:
        conn.close()
        _become_driver(fds, message, serve_fn)
    for fd in fds:
        os.close(fd)
    import eventlet.patcher
    select = eventlet.patcher.original('select')
    poller = select.poll()
    pidfd = os.pidfd_open(pid)
    poller.register(conn.fileno(), select.POLLIN | select.POLLHUP)
    poller.register(pidfd, select.POLLIN)
    ready = {fd for fd, _ in poller.poll()}
    if pidfd not in ready:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    try:
        conn.sendall(str(os.waitstatus_to_exitcode(status)).encode())
    except OSError:
        pass
    os._exit(0)


def serve(path, serve_fn):
    """The server: bind first (clients may queue while nova imports), import, then fork per client."""
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        listener.bind(path)
    except OSError:
        return 0  # another server won the race
    listener.listen(64)
    inode = os.stat(path).st_ino
    from sevnova import operations, runtime  # noqa: F401  (the import is the point)
    runtime.load()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # monitors are reaped by the kernel
    listener.settimeout(IDLE_SECONDS)
    try:
        while True:
            try:
                fd, _addr = listener._accept()
            except TimeoutError:
                return 0
            pid = os.fork()
            if pid == 0:
                listener.close()
                _monitor(_socket.socket(fileno=fd), serve_fn)
            os.close(fd)
    finally:
        try:
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        except FileNotFoundError:
            pass
