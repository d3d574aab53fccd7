"""pytest plugin: fixtures that give users a running localcore (filled in by the rules issue)."""
