"""Notifications: the member's in-app inbox, filled by consumers of other domains' events."""
