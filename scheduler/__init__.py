"""Periodic jobs, run by python-telegram-bot's JobQueue; everything they act on is a database row."""
