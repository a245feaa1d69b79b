"""Operations: rows the worker's sweeps set aside after they failed, for an operator to decide."""
