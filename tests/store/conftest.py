"""Store fixtures: ``backend`` runs a test on the file log and on JetStream."""

from tests.store.backends import backend, nats_node

__all__ = ["backend", "nats_node"]
