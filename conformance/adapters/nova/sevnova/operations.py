"""The protocol's operations, each a call into nova, with nova's exceptions turned into refusals."""
from . import boot_request, guest, host_report, lifecycle
from .refusals import refusal_for
from .wire import require


def _translated(fn):
    def run(params):
        try:
            return fn(params)
        except Exception as exc:
            refusal = refusal_for(exc)
            if refusal is None:
                raise
            raise refusal from exc
    return run


def handlers(services):
    def report(params):
        require(params, 'uri', str)
        require(params, 'sysroot', str)
        return host_report.report_host(services, params)

    return {
        'reportHost': _translated(report),
        'validateRequest': _translated(boot_request.validate_request),
        'buildGuestXml': _translated(lambda p: guest.build_guest_xml(services, p)),
        'spawn': _translated(lambda p: guest.spawn(services, p)),
        'lifecycle': _translated(lambda p: lifecycle.run(services, p)),
    }
