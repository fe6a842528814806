"""omnigate's benchmark suite: `python -m bench` (or `make bench`); `--help` lists the options.

Scenarios: `proxy` (pass-through cost: direct vs a minimal aiohttp proxy vs the gateway),
`masking` (CPU per masked 500-message response, in-process and through the gateway, against a
naive jsonpath-ng approach), `stall` (small requests' latency while large responses are being
masked) and `websocket` (a masked WebSocket feed). See docs/performance.md.
"""
