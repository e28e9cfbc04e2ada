"""livesep.gui."""
