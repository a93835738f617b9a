"""The daemon's HTTP side: the signed and native webhook routes that store incoming events,
health, readiness and metrics, the signature scheme, and the waitress server they run on."""
