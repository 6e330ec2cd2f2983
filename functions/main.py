"""Punchline's HTTP Cloud Function: `functions-framework --source functions/main.py --target punchline`."""

import functions_framework

from punchline_serve.handler import handle


@functions_framework.http
def punchline(request):
    """Generate punchlines (/), warm the model up (/warmup) or report its state (/status)."""
    return handle(request)
