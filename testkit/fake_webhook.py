"""Webhooks in the fake Bot API: setWebhook, deleteWebhook and getWebhookInfo as Telegram answers
them (getUpdates is refused with 409 while a webhook is set, fake_server.py); updates are then
POSTed to the webhook — or, standing in for a load balancer, in turn to the URLs `deliver_to`
names — with the secret header, and delivered again until answered 2xx (webhook_delivery.py;
`deliveries` records every attempt)."""

from __future__ import annotations

from typing import Any

from .fake_server import ApiError, FakeServer
from .webhook_delivery import Delivery, check_webhook, start_deliveries


class WebhookMethods(FakeServer):
    """The webhook's settings and what tests see of its deliveries."""

    def deliver_to(self, *urls: str) -> None:
        """Deliver webhook updates to these URLs in turn (a load balancer in front of replicas)
        instead of the webhook's own URL; no URLs: the webhook's own again."""
        with self._changed:
            self._state.webhook.targets = urls
            self._changed.notify_all()

    @property
    def deliveries(self) -> list[Delivery]:
        """Every attempt to deliver an update to a webhook, in order."""
        with self._changed:
            return list(self._state.webhook.deliveries)

    def deliveries_in_flight(self) -> dict[int, str]:
        """The updates being delivered right now, and the URL each is at."""
        with self._changed:
            return dict(self._state.webhook.in_flight)

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        with self._changed:
            self._state.webhook.webhook = None
            if _drops_pending(params):
                self._state.updates.clear()
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        webhook = check_webhook(params)
        if isinstance(webhook, str):
            raise ApiError(400, webhook)
        if not webhook.url:
            return self._api_deleteWebhook(params)
        with self._changed:
            if _drops_pending(params):
                self._state.updates.clear()
            wanted = min(webhook.max_connections, self.webhook_connections)
            self._deliverers += start_deliveries(self._state, self._changed, webhook, wanted - len(self._deliverers))
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            return self._state.webhook.info(self._state.updates)


def _drops_pending(params: dict[str, Any]) -> bool:
    """The request asks to drop the updates that wait (drop_pending_updates, as JSON or a form value)."""
    return params.get("drop_pending_updates") in (True, "true", "True")
