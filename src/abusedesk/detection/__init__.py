"""DECIDE: pure detection. Rule packs, windowed features, verdicts returned as data."""
