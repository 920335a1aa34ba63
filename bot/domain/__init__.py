"""Telegram-free rules of the programme. Functions take `session=` and never commit."""
