"""The web side: the Telegram webhook endpoint, /healthz and /metrics (aiohttp), and production running."""
