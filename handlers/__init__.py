"""Telegram-facing callbacks, one module per audience. They open the session; the domain decides."""
