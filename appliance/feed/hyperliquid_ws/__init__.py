"""The Hyperliquid websocket client: connection manager (``client``) and the frame
decoder (``decode``) shared with the capture replay."""
