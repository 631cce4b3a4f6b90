"""Token refresh (DESIGN.md §6): one code path for the scheduled sweep and the on-demand refresh.

- `core.TokenRefresher`: the single refresh (lease, conditional write on version, dead-grant handling); the
  Tokens port every TikTok call gets its access token from.
- `sweep.RefreshSweep`: the scheduled sweep over the sparse refresh_due index.
- `runtime.RefreshRuntime`: a full or continued sweep, and the hand-off of what did not fit in time.
"""
