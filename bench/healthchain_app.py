"""HealthChain's CDS Hooks gateway with a trivial greeting handler: the comparison point.

Run only inside the separate virtualenv ``bench.healthchain`` creates (HealthChain 0.16.1
from PyPI); it imports nothing of calf-cds. The handler returns one fixed card, so this
measures HealthChain's own per-request cost (routing, request-model validation, response
serialisation) on the same body the service gets.
"""

from healthchain.gateway import CDSHooksService, HealthChainAPI
from healthchain.models import CDSRequest, CDSResponse

_CARD = {
    "summary": "Hello from HealthChain",
    "indicator": "info",
    "source": {"label": "bench"},
}


def create_app() -> HealthChainAPI:
    app = HealthChainAPI(title="bench", enable_events=False)
    cds = CDSHooksService()

    @cds.hook("patient-view", id="calf-pain-review")
    def greet(request: CDSRequest) -> CDSResponse:
        return CDSResponse(cards=[_CARD])

    app.register_service(cds)
    return app
