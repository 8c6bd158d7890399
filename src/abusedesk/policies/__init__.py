"""The policy catalogue: what each policy forbids, how it is explained to the customer, and the
enforcement ladder that proposes the next action (catalogue.py loads it, ladder.py proposes)."""
