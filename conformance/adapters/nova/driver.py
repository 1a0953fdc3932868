#!/usr/bin/python3
"""sevharness process-protocol driver backed by unmodified nova Zed (Debian python3-nova 26.2.2).

Run with /usr/bin/python3 (the interpreter python3-nova and python3-libvirt are installed for).
Speaks conformance/PROTOCOL.md: JSON lines on stdin/stdout, `hello` first. Patches and stand-ins
are listed in README.md next to this file.
"""
import os
import sys
import traceback

# Keep the checkout clean: no __pycache__ next to the adapter.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sevnova.wire import ProtocolError, Refusal, Wire  # noqa: E402

PROTOCOL = 1
DESCRIPTION = {
    'protocol': PROTOCOL,
    'name': 'nova-zed-libvirt',
    'version': '26.2.2',
    'ops': ['reportHost', 'validateRequest', 'buildGuestXml', 'spawn', 'lifecycle'],
    'models': ['amd-sev'],
    'behaviour': 'zed',
}


def parse(line):
    import json
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError('BAD_REQUEST', f'not JSON: {exc}') from None
    if not isinstance(message, dict) or not isinstance(message.get('id'), int) or not isinstance(message.get('op'), str):
        raise ProtocolError('BAD_REQUEST', 'a request needs an integer id and a string op')
    params = message.get('params', {})
    if not isinstance(params, dict):
        raise ProtocolError('BAD_REQUEST', 'params must be an object')
    return message['id'], message['op'], params


def hello(wire):
    """Answers the handshake before nova is imported, so the runner's start-up clock stays short."""
    line = wire.read_unbuffered()
    if line is None:
        return False
    try:
        ident, op, params = parse(line)
    except ProtocolError as exc:
        wire.send({'id': None, 'error': {'code': exc.code, 'message': exc.message}})
        return False
    if op != 'hello':
        wire.send({'id': ident, 'error': {'code': 'BAD_REQUEST', 'message': 'the first request must be hello'}})
        return False
    if params.get('protocol') != PROTOCOL:
        wire.send({'id': ident, 'error': {'code': 'PROTOCOL_MISMATCH', 'message': f'this driver speaks protocol {PROTOCOL}'}})
        return False
    wire.send({'id': ident, 'result': DESCRIPTION})
    return True


def main():
    wire = Wire()
    if not hello(wire):
        return 0
    if os.environ.get('SEVHARNESS_NOVA_FORKSERVER', '1') != '0':
        from sevnova import forkserver
        code = forkserver.run_forked(wire.out_fd, __file__)
        if code is not None:
            return code
    return serve(wire)


def serve(wire):
    """The protocol loop after hello, in this process (nova imported here) or a fork-server child."""
    from sevnova import operations, runtime
    runtime.load()
    services = runtime.Services()
    handlers = operations.handlers(services)
    try:
        return _loop(wire, handlers)
    finally:
        services.close()


def _loop(wire, handlers):
    while True:
        line = wire.read()
        if line is None:
            return 0
        ident = None
        try:
            ident, op, params = parse(line)
            if op == 'shutdown':
                wire.send({'id': ident, 'result': {}})
                return 0
            if op not in handlers:
                raise ProtocolError('UNKNOWN_OP', f'{op} is not implemented')
            wire.send({'id': ident, 'result': handlers[op](params)})
        except (ProtocolError, Refusal) as exc:
            wire.send({'id': ident, 'error': {'code': exc.code, 'message': exc.message}})
        except Exception as exc:  # nova crashed on the request: HTTP 500 in a real cloud
            traceback.print_exc(file=sys.stderr)
            wire.send({'id': ident, 'error': {'code': 'INTERNAL', 'message': f'nova raised {type(exc).__name__}: {exc}'}})


def profiled(run):
    """Runs `run` under cProfile when SEVHARNESS_NOVA_PROFILE names a directory (one file per process)."""
    out_dir = os.environ.get('SEVHARNESS_NOVA_PROFILE')
    if not out_dir:
        return run()
    import cProfile
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(run)
    finally:
        os.makedirs(out_dir, exist_ok=True)
        profiler.dump_stats(os.path.join(out_dir, f'nova-{os.getpid()}.prof'))


if __name__ == '__main__':
    if sys.argv[1:2] == ['--fork-server']:
        from sevnova import forkserver
        sys.exit(forkserver.serve(sys.argv[2], lambda wire: profiled(lambda: serve(wire))))
    sys.exit(profiled(main))
