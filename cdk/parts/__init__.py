"""Constructs, one per concept; `cdk.stack` composes them."""
