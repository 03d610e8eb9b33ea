"""Issue 14: which larger K the error bars span, measured on the validation suite."""
