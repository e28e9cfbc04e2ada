"""livesep.export."""
