"""Carrying out a plan: the journalled apply engine, backups and restore."""
