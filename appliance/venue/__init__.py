"""The local venue: a Hyperliquid-protocol exchange on loopback.

``matching/`` holds the order matching and queue kernels (also driven by the
backtester without sockets); ``server/`` speaks the real protocol over HTTP and
websocket; ``faults`` injects failures that tests drive at run time.
"""
