"""Chengxin (诚信): a Telegram bot for a city's government-integrity programme."""
