"""Scheduled sync: job file, sync state, lock and runner (to come)."""
