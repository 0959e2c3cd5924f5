"""Outgoing HTTP: the request/response messages, the destination guard and the broker.

    messages  HttpRequest, HttpResponse, the Broker protocol, UnconfiguredBroker, mailers
    guard     destination checks: private/loopback/link-local/metadata addresses, base URLs
    redaction the forms of a credential a server may echo, found and replaced
    broker    the real broker: checks, signs through the connection registry, sends (httpx)
"""

from .messages import (
    Broker, HttpRequest, HttpResponse, Mailer, OutboxMailer, UnconfiguredBroker,
)

__all__ = ["Broker", "HttpRequest", "HttpResponse", "Mailer", "OutboxMailer",
           "UnconfiguredBroker"]
