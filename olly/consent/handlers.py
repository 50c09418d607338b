"""Consumers of other domains' events. Consent reacts to none yet: a deletion request reaches
other domains through their registered personal-data handlers, inside one transaction."""
