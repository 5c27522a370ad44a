"""The order-sign rules of ``calf-safe-prescribing``: pure functions over PatientFacts whose
``drafts`` / ``draft_orders`` hold the orders being signed. One module per card topic; the
engine (``engine``) runs them and returns one finding per draft order concerned."""
