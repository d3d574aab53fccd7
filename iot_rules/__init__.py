"""Topic-rule definitions as data, read by CDK and by localcore."""
