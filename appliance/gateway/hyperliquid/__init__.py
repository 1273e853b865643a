"""The Hyperliquid gateway: the executor and its collaborators, one role per module.

``executor`` wires them; each gets only the others it uses (constructor injection):

* ``venue_client.VenueClient``: /info and signed /exchange, 429 backoff (the transport).
* ``order_sender.OrderSender``: plans and cancels to the venue, the pre-trade gate.
* ``fill_booking.FillBooking``: fills and fundings booked once, fills published.
* ``positions.Positions`` and ``account``: PositionState, the fills ring, the margin.
* ``venue_sync.VenueSync``: user events, reconciliation, the position check.
* ``journal_replay``, ``journal_compaction``, ``journal_guard``: the journal at start
  and on a failing disk (``runtime.journal.Journal`` writes it).
* ``kill_switch.KillSwitch``, ``dead_mans_switch.DeadMansSwitch``, ``venue_pull.VenuePull``:
  cancelling on the kill flag, on silence, on a slow venue.
* ``ladder_planner.LadderPlanner``: ladders to plans (the one call into ``reconcile_plan``).
* ``follow_ups.FollowUps``, ``pending_plans.PendingPlans``, ``tick_to_wire.TickToWire``:
  the small shared pieces.

The package imports nothing itself: the paper gateway uses ``account`` alone.
"""
