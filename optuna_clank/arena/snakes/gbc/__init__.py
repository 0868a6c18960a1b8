"""go-battleclank stand-in: its config schema, a scalar reference of its move choice, a batched player."""
