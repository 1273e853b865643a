"""What every process shares: the loop (attach, heartbeat, wait, stop), the control
block, latency histograms, dying with the parent. Above ``config``, below the
process packages."""
