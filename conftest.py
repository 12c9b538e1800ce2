"""Every test process holds the development keys, as `make run`'s processes do by default:
keyed hashes, sealed personal data and tokens made in a test match the platform's."""

from services.common import config

config.Keys.development().configure()
