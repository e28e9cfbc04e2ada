"""livesep.training."""
