"""livesep.realtime."""
