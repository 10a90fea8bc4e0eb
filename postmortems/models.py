"""Post-incident reviews and action items (built in a later issue)."""
