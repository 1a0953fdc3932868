"""lifecycle (placeholder until implemented)."""
from .wire import Refusal


def run(services, params):
    raise Refusal('NOT_IMPLEMENTED', 'lifecycle is not implemented yet')
