"""The council: roles, routing, the batched debate and the Director."""
